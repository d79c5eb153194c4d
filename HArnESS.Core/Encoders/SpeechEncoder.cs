using HArnESS.Modules;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;
using HArnESS.Tensors;

namespace HArnESS.Encoders;

/// <summary>A wav2vec2/HuBERT-style speech encoder composed of finished parts (<see cref="SpeechEncoderParts"/>):
/// optional waveform normalisation → front-end (<see cref="IFrontEnd"/>: CNN on waveforms, fbank + stacking, or a
/// convolutional subsampler) → feature projection → optional span masking with <c>masked_spec_embed</c> →
/// convolutional positional embedding → post-LN or pre-LN transformer, returning every hidden state. Its
/// <c>state_dict()</c> keys are HF transformers' <c>Wav2Vec2Model</c>/<c>HubertModel</c> keys without the model
/// prefix (<c>feature_extractor.conv_layers.{i}.conv.weight</c>, <c>feature_projection.*</c>,
/// <c>encoder.pos_conv_embed.conv.{weight_g,weight_v,bias}</c>, <c>encoder.layer_norm.*</c>,
/// <c>encoder.layers.{i}.attention.{q,k,v,out}_proj.*</c>, …, <c>masked_spec_embed</c>); other front-ends use their
/// section's <see cref="FrontEndConfig.ModuleName"/> (<c>fbank_frontend.*</c>, <c>subsample.*</c>). Build one with
/// <see cref="Create"/>, <see cref="FromPreset"/>, the constructor or <see cref="SpeechEncoderFactory"/>.</summary>
public sealed class SpeechEncoder : nn.Module
{
    private readonly IFrontEnd _frontEnd;
    private readonly FeatureProjection _projection;
    private readonly TransformerEncoder _encoder;
    private readonly Parameter? _maskEmbedding;

    /// <summary>Builds an encoder with freshly initialised weights.</summary>
    /// <param name="config">The shape; validated first.</param>
    /// <exception cref="HArnessValidationException">A config value is invalid (every one named); nothing was allocated.</exception>
    public SpeechEncoder(SpeechEncoderConfig config) : this(SpeechEncoderFactory.CreateParts(config))
    {
    }

    /// <summary>Composes an encoder from parts (torchaudio's <c>Wav2Vec2Model(feature_extractor, encoder, aux)</c>).</summary>
    /// <param name="parts">The parts; their shapes must agree with <see cref="SpeechEncoderParts.Config"/>.</param>
    /// <exception cref="ArgumentException">A part does not fit the config or the front-end is not a module.</exception>
    public SpeechEncoder(SpeechEncoderParts parts) : base(nameof(SpeechEncoder))
    {
        ArgumentNullException.ThrowIfNull(parts);
        Config = parts.Config ?? throw new ArgumentException("Parts have no config.", nameof(parts));
        if (parts.FrontEnd is not nn.Module frontEndModule)
            throw new ArgumentException($"The front-end {parts.FrontEnd?.GetType().Name ?? "null"} is not a TorchSharp module.", nameof(parts));
        if (!Equals(parts.FrontEnd.Config, Config.FrontEnd))
            throw new ArgumentException("The front-end was built from another front-end config than the encoder's.", nameof(parts));
        if (parts.Encoder.NumLayers != Config.NumLayers)
            throw new ArgumentException($"The transformer has {parts.Encoder.NumLayers} layers; the config says {Config.NumLayers}.", nameof(parts));
        if ((parts.MaskEmbedding is not null) != Config.HasMaskEmbedding)
            throw new ArgumentException($"The config {(Config.HasMaskEmbedding ? "needs" : "has no")} masked_spec_embed (MaskTimeProb {Config.MaskTimeProb}).", nameof(parts));
        HArnessRuntime.EnsureInitialized();
        _frontEnd = parts.FrontEnd;
        _projection = parts.Projection ?? throw new ArgumentException("Parts have no projection.", nameof(parts));
        _encoder = parts.Encoder;
        _maskEmbedding = parts.MaskEmbedding;
        register_module(Config.FrontEnd.ModuleName, frontEndModule);
        register_module("feature_projection", _projection);
        register_module("encoder", _encoder);
        if (_maskEmbedding is not null) register_parameter("masked_spec_embed", _maskEmbedding);
    }

    /// <summary>Does nothing: the parts are registered by name in the constructor. (TorchSharp calls this on a module
    /// when a parent registers it; the default would also register the private fields, adding every parameter a
    /// second time under <c>_encoder.*</c>, <c>_frontEnd.*</c>, … in the parent's <c>state_dict</c>.)</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The config this encoder was built from (everything needed to rebuild it and reproduce its outputs).</summary>
    public SpeechEncoderConfig Config { get; }

    /// <summary>The front-end module.</summary>
    public IFrontEnd FrontEnd => _frontEnd;

    /// <summary>Number of transformer layers.</summary>
    public int NumLayers => _encoder.NumLayers;

    /// <summary>Model width.</summary>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>Starts a fluent builder.</summary>
    public static SpeechEncoderBuilder Create() => new();

    /// <summary>Builds a preset by name (see <see cref="EncoderPresets.Names"/>).</summary>
    /// <exception cref="HArnessConfigException">The name is unknown.</exception>
    public static SpeechEncoder FromPreset(string name) => new(EncoderPresets.Get(name));

    /// <summary>Encodes padded waveforms.</summary>
    /// <param name="waveforms"><c>[batch, time]</c> float at <see cref="SpeechEncoderConfig.SampleRate"/> (HuBERT: raw
    /// floats in [-1, 1]; normalised here when <see cref="SpeechEncoderConfig.NormalizeWaveform"/>).</param>
    /// <param name="lengths">Valid samples per row <c>[batch]</c> int64, or null when every sample is valid.</param>
    /// <param name="stopAtLayer">Run only layers 1..n (0 ≤ n ≤ <see cref="NumLayers"/>); null = all.</param>
    /// <returns>Hidden states (n + 1 of them), padding mask and frame lengths.</returns>
    public EncoderOutput Forward(Tensor waveforms, Tensor? lengths = null, int? stopAtLayer = null) =>
        Forward(waveforms, lengths, stopAtLayer, null);

    /// <summary>Encodes padded waveforms, replacing the frames in <paramref name="timeMask"/> by
    /// <c>masked_spec_embed</c> after the feature projection (HuBERT/wav2vec2 masked prediction).</summary>
    /// <param name="waveforms"><c>[batch, time]</c>.</param>
    /// <param name="lengths">Valid samples <c>[batch]</c> int64, or null.</param>
    /// <param name="stopAtLayer">Run only layers 1..n; null = all.</param>
    /// <param name="timeMask"><c>[batch, frames]</c> bool (true = mask), e.g. from <see cref="ComputeTimeMask"/>;
    /// padded frames are never replaced. Null = no masking.</param>
    /// <exception cref="ArgumentException">Shapes disagree.</exception>
    public EncoderOutput Forward(Tensor waveforms, Tensor? lengths, int? stopAtLayer, Tensor? timeMask)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        if (waveforms.dim() != 2)
            throw new ArgumentException($"Expected waveforms [batch, time], got [{string.Join(", ", waveforms.shape)}].", nameof(waveforms));
        CheckLengths(lengths, waveforms, nameof(lengths));
        using var scope = NewDisposeScope();
        lengths = lengths?.to(ScalarType.Int64, waveforms.device);
        if (Config.NormalizeWaveform) waveforms = NormalizeWaveforms(waveforms, lengths);
        var (features, frameLengths) = _frontEnd.Forward(waveforms, lengths);
        return Detach(Encode(features, frameLengths, stopAtLayer, timeMask));
    }

    /// <summary>Encodes precomputed front-end inputs: for fbank-based front-ends raw log-Mel features
    /// <c>[batch, frames, bins]</c> (10 ms frames, before CMVN: the front-end applies its own); for CNN models
    /// waveforms <c>[batch, time]</c> (the same as <see cref="Forward(Tensor, Tensor?, int?, Tensor?)"/>).</summary>
    /// <param name="features">See above.</param>
    /// <param name="featureLengths">Valid input frames (or samples) per row <c>[batch]</c> int64, or null.</param>
    /// <param name="stopAtLayer">Run only layers 1..n; null = all.</param>
    /// <param name="timeMask">Optional <c>[batch, frames]</c> bool span mask.</param>
    public EncoderOutput ForwardFeatures(Tensor features, Tensor? featureLengths = null, int? stopAtLayer = null, Tensor? timeMask = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (Config.FrontEnd.TakesWaveforms) return Forward(features, featureLengths, stopAtLayer, timeMask);
        if (features.dim() != 3)
            throw new ArgumentException($"Expected features [batch, frames, bins], got [{string.Join(", ", features.shape)}].", nameof(features));
        CheckLengths(featureLengths, features, nameof(featureLengths));
        using var scope = NewDisposeScope();
        var (x, frameLengths) = _frontEnd.ForwardFeatures(features, featureLengths?.to(ScalarType.Int64, features.device));
        return Detach(Encode(x, frameLengths, stopAtLayer, timeMask));
    }

    /// <summary>Output frames (at the transformer's rate) for an input of <paramref name="samples"/> samples, by the
    /// front-end's own formula (<see cref="FrontEndConfig.OutputFrames"/>).</summary>
    public long OutputFrames(long samples) => Config.FrontEnd.OutputFrames(samples);

    /// <summary>Draws a span mask with this config's <c>MaskTime*</c> values (see <see cref="SpanMasking.Compute"/>).</summary>
    /// <param name="batch">Batch size.</param>
    /// <param name="frames">Frames (padded).</param>
    /// <param name="frameLengths">Valid frames <c>[batch]</c>, or null.</param>
    /// <param name="generator">Random source, or null for the global one.</param>
    /// <returns><c>[batch, frames]</c> bool on the CPU.</returns>
    public Tensor ComputeTimeMask(long batch, long frames, Tensor? frameLengths = null, Generator? generator = null) =>
        SpanMasking.Compute(batch, frames, frameLengths, Config.MaskTimeProb, Config.MaskTimeLength, Config.MaskTimeMinMasks, generator);

    /// <summary>Counts parameters, as <c>sum(p.numel() for p in model.parameters())</c>.</summary>
    /// <param name="includeMaskEmbedding">False leaves out <c>masked_spec_embed</c> (torchaudio's
    /// <c>Wav2Vec2Model</c> has none, so its factories count without it).</param>
    public long CountParameters(bool includeMaskEmbedding = true) =>
        named_parameters().Where(p => includeMaskEmbedding || p.name != "masked_spec_embed").Sum(p => p.parameter.numel());

    /// <summary>Multiply-accumulates of one forward pass over <paramref name="samples"/> samples (batch 1); see
    /// <see cref="EncoderCost.CountMacs"/> for what is counted.</summary>
    public long CountMacs(int samples) => EncoderCost.CountMacs(Config, samples);

    /// <summary>Zero mean, unit variance per row over its valid samples (population variance, epsilon 1e-5, as
    /// fairseq's <c>F.layer_norm(wav, wav.shape)</c>); padded samples become 0.</summary>
    /// <param name="waveforms"><c>[batch, time]</c>.</param>
    /// <param name="lengths">Valid samples <c>[batch]</c>, or null.</param>
    public static Tensor NormalizeWaveforms(Tensor waveforms, Tensor? lengths)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        using var scope = NewDisposeScope();
        long t = waveforms.shape[1];
        var valid = lengths is null
            ? ones_like(waveforms, dtype: ScalarType.Bool)
            : Scalars.Arange(t, device: waveforms.device).unsqueeze(0) < lengths.to(waveforms.device).unsqueeze(1);
        var x = waveforms.to(ScalarType.Float64).masked_fill(valid.logical_not(), Scalars.Of(0.0));
        var n = valid.sum(1, keepdim: true, type: ScalarType.Float64).clamp_min(Scalars.Of(1.0));
        var mean = x.sum(1, keepdim: true) / n;
        var centred = (x - mean).masked_fill(valid.logical_not(), Scalars.Of(0.0));
        var variance = centred.pow(Scalars.Of(2L)).sum(1, keepdim: true) / n;
        var y = (centred / variance.add(Scalars.Of(1e-5), Scalars.One).sqrt()).to(waveforms.dtype);
        return y.MoveToOuterDisposeScope();
    }

    private EncoderOutput Encode(Tensor features, Tensor? frameLengths, int? stopAtLayer, Tensor? timeMask)
    {
        if (stopAtLayer is { } s && (s < 0 || s > NumLayers))
            throw new ArgumentOutOfRangeException(nameof(stopAtLayer), s, $"Must be between 0 and {NumLayers}.");
        long b = features.shape[0], t = features.shape[1];
        Tensor? padding = null;
        if (frameLengths is not null)
            padding = Scalars.Arange(t, device: features.device).unsqueeze(0) >= frameLengths.unsqueeze(1);
        var x = _projection.forward(features);
        if (timeMask is not null)
        {
            if (_maskEmbedding is null)
                throw new ArgumentException("This encoder has no masked_spec_embed (MaskTimeProb = 0); it cannot apply a time mask.", nameof(timeMask));
            if (timeMask.dim() != 2 || timeMask.shape[0] != b || timeMask.shape[1] != t)
                throw new ArgumentException($"Expected a time mask [{b}, {t}], got [{string.Join(", ", timeMask.shape)}].", nameof(timeMask));
            var m = timeMask.to(x.device).to_type(ScalarType.Bool);
            if (padding is not null) m = m.logical_and(padding.logical_not());
            x = where(m.unsqueeze(-1), _maskEmbedding.to_type(x.dtype), x);
        }
        var states = _encoder.Forward(x, padding, stopAtLayer);
        using var tValue = t.ToScalar();
        frameLengths ??= full(b, tValue, dtype: ScalarType.Int64, device: features.device);
        return new EncoderOutput(states, padding, frameLengths, features, timeMask);
    }

    private static EncoderOutput Detach(EncoderOutput o)
    {
        foreach (var h in o.HiddenStates) h.MoveToOuterDisposeScope();
        o.PaddingMask?.MoveToOuterDisposeScope();
        o.FrameLengths.MoveToOuterDisposeScope();
        o.FrontEndFeatures.MoveToOuterDisposeScope();
        return o;
    }

    private static void CheckLengths(Tensor? lengths, Tensor input, string name)
    {
        if (lengths is null) return;
        if (lengths.dim() != 1 || lengths.shape[0] != input.shape[0])
            throw new ArgumentException($"Expected lengths [{input.shape[0]}], got [{string.Join(", ", lengths.shape)}].", name);
    }
}
