using HArnESS.Encoders;
using HArnESS.Export.Modules;
using HArnESS.Modules;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Export;

/// <summary>How <see cref="OnnxExporter"/> writes an encoder. Defaults: every hidden state as an output, the fbank
/// front-end inside the graph for fbank models, float32, no heads.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Hidden-state indices written as outputs <c>hidden_state_{i}</c> (0 = input to layer 1, i = output of
    /// layer i, as <see cref="EncoderOutput.HiddenStates"/>); null = all. Layers past the largest index are not exported.</summary>
    public IReadOnlyList<int>? OutputLayers { get; init; }

    /// <summary>For fbank-based front-ends (fbank, conv subsampler): compute the Kaldi fbank (with the config's
    /// options, input scale and CMVN) inside the graph, so the model takes raw samples (true, default); false exports
    /// from raw fbank features (<c>features [B, frames, bins]</c>, <c>feature_lengths [B]</c>; the CMVN stays in the
    /// graph, as <see cref="SpeechEncoder.ForwardFeatures"/> applies it). The in-graph fbank needs snip edges, no
    /// dither, power spectrum, log, no energy column and no mean subtraction.</summary>
    public bool IncludeFbank { get; init; } = true;

    /// <summary>float32 or dynamic int8 Linear layers.</summary>
    public OnnxQuantization Quantization { get; init; } = OnnxQuantization.None;

    /// <summary>Task heads written on top (CTC, classification, speaker embedding). Default none.</summary>
    public IReadOnlyList<OnnxHead> Heads { get; init; } = [];

    /// <summary>Where the exporter logs what it wrote (file, bytes, outputs, int8 layers). Default none.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every value against <paramref name="config"/>; throws <see cref="HArnessValidationException"/> listing all problems.</summary>
    public void Validate(SpeechEncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new ValidationErrors();
        if (OutputLayers is not null)
        {
            errors.Require(OutputLayers.Count > 0, nameof(OutputLayers), "OutputLayers is empty; give at least one index or null for all.");
            foreach (var l in OutputLayers)
                errors.Require(l >= 0 && l <= config.NumLayers, nameof(OutputLayers), $"OutputLayers holds {l}; indices must be in [0, {config.NumLayers}].");
        }
        errors.Require(Enum.IsDefined(Quantization), nameof(Quantization), $"Quantization {(int)Quantization} is unknown.");
        if (OnnxExporter.FbankInputOf(config.FrontEnd) is { } input && IncludeFbank)
            FbankInputExporter.Validate(input, errors, "FrontEnd.Input");
        else if (OnnxExporter.FbankInputOf(config.FrontEnd) is null && config.FrontEnd is not CnnFrontEndConfig)
            errors.Add("FrontEnd", $"FrontEnd '{config.FrontEnd?.Kind}' has no ONNX exporter (cnn, fbank and conv1d-subsampler have).");
        errors.Require(Heads is not null, nameof(Heads), "Heads must not be null; use an empty list for no heads.");
        errors.Require(LoggerFactory is not null, nameof(LoggerFactory), "LoggerFactory must not be null; use NullLoggerFactory.Instance.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (Heads?.Count ?? 0); i++)
        {
            var h = Heads![i];
            var p = $"Heads[{i}]";
            errors.Require(h.Weight is not null || h.Kind == OnnxHeadKind.SpeakerEmbedding, $"{p}.Weight", $"{p}.Weight is required for a {h.Kind} head.");
            if (h.Weight is { } w)
            {
                errors.Require(w.dim() == 2 && w.shape[1] == config.HiddenSize, $"{p}.Weight",
                    $"{p}.Weight must be [out, {config.HiddenSize}], got [{string.Join(", ", w.shape)}].");
                if (h.Bias is { } b)
                    errors.Require(b.dim() == 1 && b.shape[0] == w.shape[0], $"{p}.Bias", $"{p}.Bias must be [{w.shape[0]}], got [{string.Join(", ", b.shape)}].");
                if (h.Labels is { } labels && w.dim() == 2)
                    errors.Require(labels.Count == w.shape[0], $"{p}.Labels", $"{p}.Labels has {labels.Count} entries; the head has {w.shape[0]} outputs.");
            }
            errors.Require(h.Layer is null || (h.Layer >= 0 && h.Layer <= config.NumLayers), $"{p}.Layer", $"{p}.Layer is {h.Layer}; must be in [0, {config.NumLayers}].");
            errors.Require(h.Kind != OnnxHeadKind.Ctc || h.Labels is null || (h.BlankIndex >= 0 && h.BlankIndex < h.Labels.Count),
                $"{p}.BlankIndex", $"{p}.BlankIndex {h.BlankIndex} is outside the {h.Labels?.Count} labels.");
            errors.Require(names.Add(h.ResolvedOutputName), $"{p}.OutputName", $"{p}.OutputName '{h.ResolvedOutputName}' is used twice.");
        }
        errors.ThrowIfAny(nameof(OnnxExportOptions));
    }
}
