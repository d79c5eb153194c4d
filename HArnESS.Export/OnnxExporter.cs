using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using HArnESS.Encoders;
using HArnESS.Export.Graph;
using HArnESS.Export.Modules;
using HArnESS.Features;
using HArnESS.Modules;
using HArnESS.Runtime;
using HArnESS.Serialization;
using static HArnESS.Export.Onnx.TensorProto.Types;

namespace HArnESS.Export;

/// <summary>Writes a <see cref="SpeechEncoder"/> as an ONNX model (opset 17, IR 8) with a JSON sidecar. Inputs:
/// <c>waveforms [batch, time]</c> float32 and <c>lengths [batch]</c> int64 (valid samples per row), or, for a fbank
/// model exported without its fbank, <c>features [batch, frames, bins]</c> and <c>feature_lengths [batch]</c>. Outputs:
/// <c>hidden_state_{i}</c> <c>[batch, frames, hidden]</c> for the chosen layers, <c>frame_lengths [batch]</c> int64, and
/// one output per head. Every front-end is exported (<see cref="CnnFrontEndConfig"/>, <see cref="FbankFrontEndConfig"/>,
/// <see cref="Conv1dSubsamplerConfig"/>, with the config's waveform normalisation, fbank options, input scale and CMVN).
/// The padding mask is computed in the graph from the lengths (the conv stack's or Kaldi's frame
/// count), so padded batches give each utterance the result the TorchSharp forward gives with the same lengths.
/// Weights are read from the encoder's <c>state_dict</c> (HF key names); the positional conv's weight norm is folded.
/// The encoder is not changed (no train/eval switch, no forward pass).</summary>
public static class OnnxExporter
{
    /// <summary>Exports <paramref name="encoder"/> to <paramref name="path"/> (and its sidecar <c>.json</c> beside it),
    /// both written atomically.</summary>
    /// <exception cref="HArnessValidationException">An option does not fit the encoder (every problem listed).</exception>
    /// <exception cref="HArnessCheckpointException">A tensor the architecture needs is missing from the state_dict.</exception>
    public static OnnxExportResult Export(SpeechEncoder encoder, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new OnnxExportOptions();
        var config = encoder.Config;
        options.Validate(config);
        HArnessRuntime.EnsureInitialized();

        var g = new OnnxGraphBuilder();
        var c = new ExportContext(g, new Weights(encoder), options.Quantization);
        var (features, frameLengths, input) = WriteFrontEnd(c, config, options);

        var x = FeatureProjectionExporter.Write(c, features, config.LayerNormEps);
        var valid = LengthOps.ValidMask(g, x, frameLengths);
        x = LengthOps.ZeroPadded(g, x, valid);
        var mask = LengthOps.AttentionMask(g, valid, TransformerEncoder.MaskValue);
        x = g.Add(x, PositionalConvExporter.Write(c, x, config.PosConvKernel, config.PosConvGroups));
        if (!config.LayerNormFirst) x = EncoderLayerNorm(c, x, config);

        var wanted = (options.OutputLayers ?? Enumerable.Range(0, config.NumLayers + 1).ToArray()).Distinct().Order().ToArray();
        var headLayers = options.Heads.Select(h => h.Layer ?? config.NumLayers).ToArray();
        var last = wanted.Concat(headLayers).Max();
        var states = new string[last + 1];
        states[0] = x;
        for (var i = 0; i < last; i++)
        {
            x = TransformerLayerExporter.Write(c, x, mask, config.HiddenSize, config.NumHeads, config.LayerNormFirst, config.LayerNormEps, $"encoder.layers.{i}");
            if (config.LayerNormFirst && i == config.NumLayers - 1) x = EncoderLayerNorm(c, x, config);
            states[i + 1] = x;
        }

        var outputs = new List<string>();
        var hidden = new List<SidecarHiddenState>();
        foreach (var i in wanted)
        {
            var name = $"hidden_state_{i}";
            g.Output(name, states[i], DataType.Float, "batch", "frames", config.HiddenSize);
            outputs.Add(name);
            hidden.Add(new SidecarHiddenState(name, i));
        }
        g.Output("frame_lengths", frameLengths, DataType.Int64, "batch");
        outputs.Add("frame_lengths");
        var heads = new List<SidecarHead>();
        foreach (var h in options.Heads)
        {
            var layer = h.Layer ?? config.NumLayers;
            var y = HeadExporter.Write(c, h, states[layer], valid, frameLengths);
            var size = (int)(h.Weight?.shape[0] ?? config.HiddenSize);
            var name = h.ResolvedOutputName;
            if (h.Kind == OnnxHeadKind.Ctc) g.Output(name, y, DataType.Float, "batch", "frames", size);
            else g.Output(name, y, DataType.Float, "batch", size);
            outputs.Add(name);
            heads.Add(new SidecarHead
            {
                Kind = h.Kind.ToString(), Output = name, Layer = layer, Size = size, Labels = h.Labels,
                BlankIndex = h.Kind == OnnxHeadKind.Ctc ? h.BlankIndex : null,
                WordDelimiter = h.Kind == OnnxHeadKind.Ctc ? h.WordDelimiter : null,
            });
        }

        var sidecar = new OnnxSidecar
        {
            SampleRate = config.SampleRate,
            Input = input,
            FeatureDim = input == "features" ? FbankInputOf(config.FrontEnd)!.FeatureDim : 0,
            MinSamples = MinSamples(encoder),
            HiddenSize = config.HiddenSize,
            HiddenStates = hidden,
            FrameRateHz = FrameRate(config),
            Quantization = options.Quantization.ToString(),
            Heads = heads,
            Encoder = JsonNode.Parse(config.ToJson()),
        };
        var result = Write(g, path, sidecar, outputs, c.QuantizedLinears);
        options.LoggerFactory.CreateLogger(typeof(OnnxExporter)).LogInformation(
            "Exported {Model} ({FrontEnd} front-end, {Layers} layers) to {Path}: {Bytes} bytes, outputs {Outputs}, {Quantized} int8 Linear layers",
            config.ModelType, config.FrontEnd.Kind, config.NumLayers, path, result.ModelBytes, string.Join(", ", outputs), c.QuantizedLinears);
        return result;
    }

    /// <summary>Exports only the Kaldi fbank of <paramref name="options"/> as a graph <c>waveforms [B, T]</c>,
    /// <c>lengths [B]</c> → <c>features [B, frames, bins]</c> (padded frames zero, as <see cref="Fbank.Compute(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)"/>)
    /// and <c>frame_lengths [B]</c>: the front-end the encoder export embeds, on its own.</summary>
    /// <exception cref="HArnessValidationException">The setting cannot be exported (reflected edges, dither, energy column, …).</exception>
    public static OnnxExportResult ExportFbank(FbankOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options.Validate();
        var errors = new ValidationErrors();
        KaldiFbankExporter.Validate(options, errors, "Fbank");
        errors.ThrowIfAny(nameof(FbankOptions));
        HArnessRuntime.EnsureInitialized();
        var g = new OnnxGraphBuilder();
        g.Input("waveforms", DataType.Float, "batch", "time");
        g.Input("lengths", DataType.Int64, "batch");
        var (f, l) = KaldiFbankExporter.Write(g, "waveforms", "lengths", options);
        f = LengthOps.ZeroPadded(g, f, LengthOps.ValidMask(g, f, l));
        g.Output("features", f, DataType.Float, "batch", "frames", options.NumMelBins);
        g.Output("frame_lengths", l, DataType.Int64, "batch");
        var sidecar = new OnnxSidecar
        {
            SampleRate = (int)options.Frame.SampleRate, Input = "waveforms", MinSamples = options.Frame.WindowSize, HiddenSize = 0,
            HiddenStates = [], FrameRateHz = options.Frame.SampleRate / options.Frame.WindowShift, Quantization = nameof(OnnxQuantization.None), Heads = [],
        };
        return Write(g, path, sidecar, ["features", "frame_lengths"], 0);
    }

    // The one place that knows the front-ends: returns front-end features [B, T', D], their valid frames, and the input kind.
    private static (string Features, string Lengths, string Input) WriteFrontEnd(ExportContext c, SpeechEncoderConfig config, OnnxExportOptions options)
    {
        var g = c.G;
        var frontEnd = config.FrontEnd;
        var fromFeatures = !frontEnd.TakesWaveforms && !options.IncludeFbank;
        string signal, lengths;
        if (fromFeatures)
        {
            (signal, lengths) = ("features", "feature_lengths");
            g.Input(signal, DataType.Float, "batch", "frames", FbankInputOf(frontEnd)!.FeatureDim);
            g.Input(lengths, DataType.Int64, "batch");
        }
        else
        {
            (signal, lengths) = ("waveforms", "lengths");
            g.Input(signal, DataType.Float, "batch", "time");
            g.Input(lengths, DataType.Int64, "batch");
            if (config.NormalizeWaveform) signal = LengthOps.NormalizeWaveforms(g, signal, lengths);
        }
        var input = fromFeatures ? "features" : "waveforms";
        if (frontEnd is CnnFrontEndConfig cnn)
        {
            var (f, l) = ConvFrontEndExporter.Write(c, signal, lengths, cnn, cnn.ModuleName);
            return (f, l, input);
        }
        var fbank = FbankInputOf(frontEnd) ?? throw new HArnessConfigException($"FrontEnd '{frontEnd.Kind}' has no ONNX exporter.", nameof(SpeechEncoderConfig.FrontEnd));
        var (fb, fl) = FbankInputExporter.Write(g, signal, lengths, fbank, fromFeatures);
        var (features, frameLengths) = frontEnd switch
        {
            FbankFrontEndConfig stack => FbankStackExporter.Write(c, fb, fl, fbank.FeatureDim, stack.Stack, stack.ModuleName),
            Conv1dSubsamplerConfig sub => SubsamplerExporter.Write(c, fb, fl, sub, sub.ModuleName),
            _ => throw new HArnessConfigException($"FrontEnd '{frontEnd.Kind}' has no ONNX exporter.", nameof(SpeechEncoderConfig.FrontEnd)),
        };
        return (features, frameLengths, input);
    }

    /// <summary>The fbank preprocessing of a front-end that reads fbanks, or null for waveform front-ends.</summary>
    internal static FbankInput? FbankInputOf(FrontEndConfig? frontEnd) => frontEnd switch
    {
        FbankFrontEndConfig f => f.Input,
        Conv1dSubsamplerConfig s => s.Input,
        _ => null,
    };

    private static string EncoderLayerNorm(ExportContext c, string x, SpeechEncoderConfig config)
    {
        var g = c.G;
        return g.LayerNorm(x,
            g.Initializer("encoder.layer_norm.weight", c.W.Get("encoder.layer_norm.weight", 1).Data, config.HiddenSize),
            g.Initializer("encoder.layer_norm.bias", c.W.Get("encoder.layer_norm.bias", 1).Data, config.HiddenSize), config.LayerNormEps);
    }

    // Smallest input with one output frame.
    private static long MinSamples(SpeechEncoder encoder)
    {
        long lo = 1, hi = 1;
        while (encoder.OutputFrames(hi) < 1) hi *= 2;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (encoder.OutputFrames(mid) >= 1) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    // Output frames per second, from the front-end's own frame formula over a long input.
    private static double FrameRate(SpeechEncoderConfig config)
    {
        long second = config.SampleRate;
        return (config.FrontEnd.OutputFrames(101 * second) - config.FrontEnd.OutputFrames(second)) / 100.0;
    }

    private static OnnxExportResult Write(OnnxGraphBuilder g, string path, OnnxSidecar sidecar, IReadOnlyList<string> outputs, int quantized)
    {
        var model = g.Build(typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0", new Dictionary<string, string>
        {
            ["harness.sidecar"] = JsonSerializer.Serialize(sidecar with { Encoder = null }, OnnxSidecar.Json),
        });
        var size = model.CalculateSize();
        if (size > int.MaxValue - 1024)
            throw new HArnessCheckpointException($"The model is {size} bytes; a single .onnx file is limited to 2 GiB (protobuf).", path);
        AtomicFile.Write(path, s => model.WriteTo(s));
        var sidecarPath = OnnxSidecar.SidecarPathFor(path);
        AtomicFile.WriteAllText(sidecarPath, JsonSerializer.Serialize(sidecar, OnnxSidecar.Json));
        return new OnnxExportResult(path, sidecarPath, new FileInfo(path).Length, outputs, quantized);
    }
}
