using System.Text.RegularExpressions;
using HArnESS.Encoders;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace HArnESS.Downstream.Upstream;

/// <summary>
/// A speech encoder (teacher or student, CNN or Fbank front-end) used as a downstream upstream: runs it, decides
/// which of its parameters train at each update (<see cref="UpstreamOptions"/>), and reports its size and cost for the
/// evaluation table. It does not own the encoder.
/// </summary>
public sealed class UpstreamModel
{
    // A plain field, not [GeneratedRegex]: the generated member would carry a summary-less doc entry.
    private static readonly Regex LayerIndex = new(@"(^|\.)layers\.(\d+)\.", RegexOptions.CultureInvariant);

    /// <summary>Wraps an encoder.</summary>
    /// <param name="encoder">The encoder (the caller keeps ownership).</param>
    /// <param name="options">How it is used; null = frozen, weighted sum.</param>
    /// <exception cref="HArnessValidationException">The options are invalid, or <see cref="UpstreamOptions.TrainableTopLayers"/> exceeds the encoder's layers.</exception>
    public UpstreamModel(SpeechEncoder encoder, UpstreamOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        options ??= new UpstreamOptions();
        options.Validate();
        if (options.Training == UpstreamTraining.TopLayers && options.TrainableTopLayers > encoder.NumLayers)
        {
            var errors = new ValidationErrors();
            errors.Add(nameof(UpstreamOptions.TrainableTopLayers),
                $"{nameof(UpstreamOptions.TrainableTopLayers)} = {options.TrainableTopLayers} exceeds the encoder's {encoder.NumLayers} layers.");
            errors.ThrowIfAny(nameof(UpstreamOptions));
        }
        Encoder = encoder;
        Options = options;
    }

    /// <summary>The encoder.</summary>
    public SpeechEncoder Encoder { get; }

    /// <summary>How it is used.</summary>
    public UpstreamOptions Options { get; }

    /// <summary>Hidden states the encoder returns (layers + 1): the size a layer combiner needs.</summary>
    public int NumHiddenStates => Encoder.NumLayers + 1;

    /// <summary>Width of the hidden states.</summary>
    public int HiddenSize => Encoder.HiddenSize;

    /// <summary>A layer combiner for this upstream as the options ask (a new <see cref="WeightedLayerSum"/> or a <see cref="SingleLayer"/>).</summary>
    public ILayerCombiner CreateCombiner() => Options.WeightedSum
        ? new WeightedLayerSum(NumHiddenStates, Options.LayerNormBeforeSum)
        : new SingleLayer(NumHiddenStates, Options.Layer);

    /// <summary>Whether the upstream trains at update <paramref name="update"/> (0-based).</summary>
    public bool IsTrainedAt(long update) => Options.Training != UpstreamTraining.Frozen && update >= Options.FreezeForUpdates;

    /// <summary>The parameters the options let train (once <see cref="UpstreamOptions.FreezeForUpdates"/> has
    /// passed): give them to the optimiser as their own group with the upstream learning rate.</summary>
    public IReadOnlyList<Parameter> TrainableParameters()
    {
        if (Options.Training == UpstreamTraining.Frozen) return [];
        var first = Encoder.NumLayers - Options.TrainableTopLayers;
        var list = new List<Parameter>();
        foreach (var (name, p) in Encoder.named_parameters())
        {
            if (name.StartsWith("masked_spec_embed", StringComparison.Ordinal)) continue;
            // Whatever is neither the projection nor the transformer is the waveform front-end (CNN, Fbank stack, subsampler).
            var isFrontEnd = !name.StartsWith("feature_projection.", StringComparison.Ordinal) && !name.StartsWith("encoder.", StringComparison.Ordinal);
            if (Options.Training == UpstreamTraining.Full)
            {
                if (!(isFrontEnd && Options.FreezeFeatureExtractor)) list.Add(p);
                continue;
            }
            var m = LayerIndex.Match(name);
            if (m.Success && int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) >= first) list.Add(p);
            else if (name.StartsWith("encoder.layer_norm", StringComparison.Ordinal) && Encoder.Config.LayerNormFirst) list.Add(p);
        }
        return list;
    }

    /// <summary>Sets <c>requires_grad</c> on every encoder parameter for update <paramref name="update"/>: the
    /// <see cref="TrainableParameters"/> train once the freeze period has passed, everything else is frozen.</summary>
    /// <param name="update">The update about to run (0-based).</param>
    public void ApplyFreezing(long update)
    {
        var trainable = IsTrainedAt(update) ? new HashSet<Parameter>(TrainableParameters(), ReferenceEqualityComparer.Instance) : [];
        foreach (var p in Encoder.parameters()) p.requires_grad = trainable.Contains(p);
    }

    /// <summary>Runs the encoder. When the upstream does not train at <paramref name="update"/> it runs in eval mode
    /// under no-grad (the encoder's training flag is restored afterwards); otherwise in the encoder's current mode
    /// with gradients.</summary>
    /// <param name="waveforms"><c>[batch, samples]</c>.</param>
    /// <param name="lengths"><c>[batch]</c> valid samples, or null.</param>
    /// <param name="update">The current update, or null for evaluation (frozen behaviour).</param>
    public UpstreamFeatures Extract(Tensor waveforms, Tensor? lengths, long? update = null)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        var trains = update is { } u && IsTrainedAt(u);
        var wasTraining = Encoder.training;
        IDisposable? noGrad = null;
        try
        {
            if (!trains)
            {
                Encoder.eval();
                noGrad = no_grad();
            }
            var input = waveforms.device == Device ? waveforms : waveforms.to(Device);
            var lens = lengths is null || lengths.device == Device ? lengths : lengths.to(Device);
            var output = Encoder.Forward(input, lens);
            // The output owns its tensors; hand them over (the front-end features are not needed downstream).
            var features = new UpstreamFeatures(output.HiddenStates, output.PaddingMask, output.FrameLengths);
            output.FrontEndFeatures.Dispose();
            return features;
        }
        finally
        {
            noGrad?.Dispose();
            if (wasTraining != Encoder.training) Encoder.train(wasTraining);
        }
    }

    /// <summary>The device the encoder's parameters are on.</summary>
    public Device Device => Encoder.parameters().FirstOrDefault()?.device ?? CPU;

    /// <summary>Encoder parameters (including the mask embedding, as <c>SpeechEncoder.CountParameters</c>).</summary>
    public long ParameterCount => Encoder.CountParameters();

    /// <summary>Multiply-accumulates per second of 16 kHz audio.</summary>
    public long MacsPerSecond => Encoder.CountMacs(16_000);
}
