using HArnESS.Features;
using HArnESS.Modules;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace HArnESS.Encoders;

/// <summary>A wav2vec2/HuBERT-style speech encoder: front-end (CNN on waveforms or fbank + stacking) → feature
/// projection → optional span masking with <c>masked_spec_embed</c> → convolutional positional embedding →
/// post-LN or pre-LN transformer, returning every hidden state. Its <c>state_dict()</c> keys are HF
/// transformers' <c>Wav2Vec2Model</c>/<c>HubertModel</c> keys without the model prefix
/// (<c>feature_extractor.conv_layers.{i}.conv.weight</c>, <c>feature_projection.*</c>,
/// <c>encoder.pos_conv_embed.conv.{weight_g,weight_v,bias}</c>, <c>encoder.layer_norm.*</c>,
/// <c>encoder.layers.{i}.attention.{q,k,v,out}_proj.*</c>, …, <c>masked_spec_embed</c>); the fbank front-end
/// uses <c>fbank_frontend.*</c>. Build one with <see cref="Create"/>, <see cref="FromPreset"/> or the constructor.</summary>
public sealed class SpeechEncoder : nn.Module
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly ConvFeatureExtractor? feature_extractor;
    private readonly FbankFrontEnd? fbank_frontend;
    private readonly FeatureProjection feature_projection;
    private readonly TransformerEncoder encoder;
    private readonly Parameter? masked_spec_embed;
#pragma warning restore IDE1006

    /// <summary>Builds an encoder with freshly initialised weights.</summary>
    /// <param name="config">The shape; validated first.</param>
    /// <exception cref="HArnessConfigException">A config value is invalid (named in the exception).</exception>
    public SpeechEncoder(SpeechEncoderConfig config) : base(StartRuntime(config))
    {
        Config = config;
        if (config.FrontEnd == FrontEndKind.Cnn)
            feature_extractor = new ConvFeatureExtractor(config.ConvLayers, config.ConvNorm, config.ConvBias);
        else
        {
            fbank_frontend = new FbankFrontEnd(config.FbankMelBins, config.FbankStack, config.FbankProjectionDim);
            Featurizer = new Fbank(FbankOptions.Default80 with { NumMelBins = config.FbankMelBins }).Compute;
        }
        feature_projection = new FeatureProjection(config.FrontEndDim, config.HiddenSize, config.FeatureProjectionDropout, config.LayerNormEps);
        encoder = new TransformerEncoder(config.HiddenSize, config.NumLayers, config.NumHeads, config.IntermediateSize,
            config.LayerNormFirst, config.PosConvKernel, config.PosConvGroups, config.HiddenDropout, config.AttentionDropout,
            config.ActivationDropout, config.LayerDrop, config.LayerNormEps);
        if (config.HasMaskEmbedding)
            masked_spec_embed = new Parameter(rand(config.HiddenSize)); // HF: uniform_() in [0, 1)
        RegisterComponents();
    }

    /// <summary>The shape this encoder was built from.</summary>
    public SpeechEncoderConfig Config { get; }

    /// <summary>Number of transformer layers.</summary>
    public int NumLayers => encoder.NumLayers;

    /// <summary>Model width.</summary>
    public int HiddenSize => Config.HiddenSize;

    /// <summary>For the fbank front-end: turns waveforms into log-Mel features <c>[batch, frames, melBins]</c>.
    /// Fbank models start with Kaldi/torchaudio-compatible <see cref="Fbank"/> features (16 kHz, 25 ms / 10 ms
    /// frames, snip_edges, no dither, <c>FbankMelBins</c> bins); replace it to change the features (it is not part
    /// of the config). <see cref="ForwardFeatures"/> takes precomputed features instead. Null for CNN models.</summary>
    public WaveformFeaturizer? Featurizer { get; set; }

    /// <summary>Starts a fluent builder.</summary>
    public static SpeechEncoderBuilder Create() => new();

    /// <summary>Builds a preset by name (see <see cref="EncoderPresets.Names"/>).</summary>
    /// <exception cref="HArnessConfigException">The name is unknown.</exception>
    public static SpeechEncoder FromPreset(string name) => new(EncoderPresets.Get(name));

    /// <summary>Encodes padded waveforms.</summary>
    /// <param name="waveforms"><c>[batch, time]</c> float, as the model expects (HuBERT: raw floats in [-1, 1]).</param>
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
    /// <exception cref="ArgumentException">Shapes disagree, or a fbank model has no <see cref="Featurizer"/>.</exception>
    public EncoderOutput Forward(Tensor waveforms, Tensor? lengths, int? stopAtLayer, Tensor? timeMask)
    {
        if (waveforms.dim() != 2)
            throw new ArgumentException($"Expected waveforms [batch, time], got [{string.Join(", ", waveforms.shape)}].", nameof(waveforms));
        CheckLengths(lengths, waveforms, nameof(lengths));
        using var scope = NewDisposeScope();
        lengths = lengths?.to(ScalarType.Int64, waveforms.device);
        Tensor features;
        Tensor? frameLengths;
        if (feature_extractor is not null)
        {
            (features, frameLengths) = feature_extractor.Forward(waveforms, lengths);
        }
        else
        {
            if (Featurizer is null)
                throw new ArgumentException("This encoder has an fbank front-end but no Featurizer; set SpeechEncoder.Featurizer or call ForwardFeatures with precomputed fbanks.", nameof(waveforms));
            var l = lengths ?? full(waveforms.shape[0], waveforms.shape[1], dtype: ScalarType.Int64, device: waveforms.device);
            var (fb, fbLengths) = Featurizer(waveforms, l);
            (features, frameLengths) = fbank_frontend!.Forward(fb, lengths is null ? null : fbLengths);
        }
        var output = Encode(features, frameLengths, stopAtLayer, timeMask);
        return Detach(output);
    }

    /// <summary>Encodes precomputed front-end inputs: for fbank models log-Mel features
    /// <c>[batch, frames, melBins]</c> (10 ms frames); for CNN models waveforms <c>[batch, time]</c>.</summary>
    /// <param name="features">See above.</param>
    /// <param name="featureLengths">Valid input frames (or samples) per row <c>[batch]</c> int64, or null.</param>
    /// <param name="stopAtLayer">Run only layers 1..n; null = all.</param>
    /// <param name="timeMask">Optional <c>[batch, frames]</c> bool span mask.</param>
    public EncoderOutput ForwardFeatures(Tensor features, Tensor? featureLengths = null, int? stopAtLayer = null, Tensor? timeMask = null)
    {
        if (feature_extractor is not null) return Forward(features, featureLengths, stopAtLayer, timeMask);
        CheckLengths(featureLengths, features, nameof(featureLengths));
        using var scope = NewDisposeScope();
        var (x, frameLengths) = fbank_frontend!.Forward(features, featureLengths?.to(ScalarType.Int64, features.device));
        return Detach(Encode(x, frameLengths, stopAtLayer, timeMask));
    }

    /// <summary>Output frames (at the transformer's rate) for an input of <paramref name="samples"/> 16 kHz samples.
    /// For fbank models this assumes Kaldi framing: 400-sample window, 160-sample shift, snip_edges.</summary>
    public long OutputFrames(long samples) => EncoderCost.OutputFrames(Config, samples);

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

    private EncoderOutput Encode(Tensor features, Tensor? frameLengths, int? stopAtLayer, Tensor? timeMask)
    {
        if (stopAtLayer is { } s && (s < 0 || s > NumLayers))
            throw new ArgumentOutOfRangeException(nameof(stopAtLayer), s, $"Must be between 0 and {NumLayers}.");
        long b = features.shape[0], t = features.shape[1];
        Tensor? padding = null;
        if (frameLengths is not null)
            padding = arange(t, device: features.device).unsqueeze(0) >= frameLengths.unsqueeze(1);
        var x = feature_projection.forward(features);
        if (timeMask is not null)
        {
            if (masked_spec_embed is null)
                throw new ArgumentException("This encoder has no masked_spec_embed (MaskTimeProb = 0); it cannot apply a time mask.", nameof(timeMask));
            if (timeMask.dim() != 2 || timeMask.shape[0] != b || timeMask.shape[1] != t)
                throw new ArgumentException($"Expected a time mask [{b}, {t}], got [{string.Join(", ", timeMask.shape)}].", nameof(timeMask));
            var m = timeMask.to(x.device).to_type(ScalarType.Bool);
            if (padding is not null) m = m.logical_and(padding.logical_not());
            x = where(m.unsqueeze(-1), masked_spec_embed.to_type(x.dtype), x);
        }
        var states = encoder.Forward(x, padding, stopAtLayer);
        frameLengths ??= full(b, t, dtype: ScalarType.Int64, device: features.device);
        return new EncoderOutput(states, padding, frameLengths, features, timeMask);
    }

    // Runs before the base constructor, which already calls into libtorch: validate, then start the runtime.
    private static string StartRuntime(SpeechEncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        HArnessRuntime.EnsureInitialized();
        return nameof(SpeechEncoder);
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
