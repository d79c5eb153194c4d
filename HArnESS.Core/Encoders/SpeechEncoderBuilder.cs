using HArnESS.Features;
using HArnESS.Modules;

namespace HArnESS.Encoders;

/// <summary>Immutable fluent builder for <see cref="SpeechEncoder"/>s, a thin layer over
/// <see cref="SpeechEncoderConfig"/>. Starts from the HuBERT-base config; every <c>WithX</c> returns a new builder
/// and leaves the one it was called on unchanged; <see cref="Build"/> validates (every problem at once, as a
/// <see cref="HArnessValidationException"/>) and builds.
/// <code>
/// var student = SpeechEncoder.Create()
///     .WithFbankFrontEnd(melBins: 80, stack: 2)
///     .WithTransformer(layers: 2, dim: 768, heads: 12, ffn: 3072)
///     .PostLayerNorm()
///     .Build();
/// </code></summary>
public sealed class SpeechEncoderBuilder
{
    /// <summary>Starts from the HuBERT-base config.</summary>
    public SpeechEncoderBuilder() : this(new SpeechEncoderConfig())
    {
    }

    private SpeechEncoderBuilder(SpeechEncoderConfig config) => Config = config;

    /// <summary>The config built so far (not yet validated).</summary>
    public SpeechEncoderConfig Config { get; }

    private SpeechEncoderBuilder With(Func<SpeechEncoderConfig, SpeechEncoderConfig> change) => new(change(Config));

    /// <summary>A builder starting from an existing config.</summary>
    public SpeechEncoderBuilder FromConfig(SpeechEncoderConfig config) =>
        new(config ?? throw new ArgumentNullException(nameof(config)));

    /// <summary>A builder starting from a preset (see <see cref="EncoderPresets.Names"/>).</summary>
    /// <exception cref="HArnessConfigException">The name is unknown.</exception>
    public SpeechEncoderBuilder FromPreset(string name) => FromConfig(EncoderPresets.Get(name));

    /// <summary>Uses any front-end section (e.g. a <see cref="Conv1dSubsamplerConfig"/>).</summary>
    public SpeechEncoderBuilder WithFrontEnd(FrontEndConfig frontEnd)
    {
        ArgumentNullException.ThrowIfNull(frontEnd);
        return With(c => c with { FrontEnd = frontEnd });
    }

    /// <summary>Uses a CNN on raw waveforms.</summary>
    /// <param name="layers">The conv stack, e.g. <see cref="ConvStack.Wav2Vec2"/>.</param>
    /// <param name="norm">Group norm on layer 0 (base) or layer norm on every layer (large/XLS-R).</param>
    /// <param name="bias">Conv biases (true in wav2vec2 large LV-60k / XLS-R).</param>
    public SpeechEncoderBuilder WithCnnFrontEnd(IReadOnlyList<ConvLayerSpec> layers, ConvNormMode norm = ConvNormMode.GroupNorm, bool bias = false)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return WithFrontEnd(new CnnFrontEndConfig { Layers = layers.ToArray(), Norm = norm, Bias = bias });
    }

    /// <summary>Uses log-Mel filter banks, stacked <paramref name="stack"/> frames at a time and projected to
    /// <paramref name="projectionDim"/>, instead of the CNN.</summary>
    /// <param name="melBins">Mel bins (replaces <see cref="FbankOptions.NumMelBins"/> of <paramref name="options"/>).</param>
    /// <param name="stack">10 ms frames per output frame.</param>
    /// <param name="projectionDim">Front-end output dim.</param>
    /// <param name="options">Fbank options; null = torchaudio's defaults (<see cref="FbankOptions.Default80"/>).</param>
    /// <param name="cmvn">Global CMVN statistics to normalise the fbanks with (saved with the model), or null.</param>
    public SpeechEncoderBuilder WithFbankFrontEnd(int melBins = 80, int stack = 2, int projectionDim = 512,
        FbankOptions? options = null, CmvnStats? cmvn = null) =>
        WithFrontEnd(new FbankFrontEndConfig
        {
            Input = new FbankInput
            {
                Options = (options ?? FbankOptions.Default80) with { NumMelBins = melBins },
                Cmvn = cmvn is null ? null : GlobalCmvn.FromStats(cmvn),
            },
            Stack = stack,
            ProjectionDim = projectionDim,
        });

    /// <summary>Uses Wang et al.'s convolutional subsampler (fairseq's <c>Conv1dSubsampler</c>) on global-CMVN
    /// fbanks: one Conv1d of kernel 5, stride 2, then GLU, so 10 ms frames become 20 ms.</summary>
    /// <param name="outputDim">Output channels after the GLU.</param>
    /// <param name="cmvn">Global CMVN statistics of the training fbanks (saved with the model), or null.</param>
    /// <param name="options">Fbank options; null = 80 Mel bins, torchaudio's defaults.</param>
    public SpeechEncoderBuilder WithConv1dSubsampler(int outputDim = 512, CmvnStats? cmvn = null, FbankOptions? options = null) =>
        WithFrontEnd(new Conv1dSubsamplerConfig
        {
            Input = new FbankInput { Options = options ?? FbankOptions.Default80, Cmvn = cmvn is null ? null : GlobalCmvn.FromStats(cmvn) },
            OutputChannels = outputDim,
        });

    /// <summary>Sets the waveform sample rate and whether the encoder normalises waveforms itself.</summary>
    /// <param name="sampleRate">Hz (16000 for every published model).</param>
    /// <param name="normalize">Zero mean, unit variance per utterance before the front-end.</param>
    public SpeechEncoderBuilder WithWaveformInput(int sampleRate = Data.AudioDatasetOptions.DefaultSampleRate, bool normalize = false) =>
        With(c => c with { SampleRate = sampleRate, NormalizeWaveform = normalize });

    /// <summary>Sets the transformer's shape.</summary>
    /// <param name="layers">Layers.</param>
    /// <param name="dim">Model width; must be divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="ffn">Feed-forward width; null = 4 × <paramref name="dim"/>.</param>
    public SpeechEncoderBuilder WithTransformer(int layers, int dim, int heads, int? ffn = null) =>
        With(c => c with { NumLayers = layers, HiddenSize = dim, NumHeads = heads, IntermediateSize = ffn ?? 4 * dim });

    /// <summary>Post-LN layers (HuBERT/wav2vec2 base): layer norm after each residual, and before the stack.</summary>
    public SpeechEncoderBuilder PostLayerNorm() => With(c => c with { LayerNormFirst = false });

    /// <summary>Pre-LN layers ("stable layer norm": large, XLS-R): layer norm inside each residual branch and after the stack.</summary>
    public SpeechEncoderBuilder PreLayerNorm() => With(c => c with { LayerNormFirst = true });

    /// <summary>Sets the convolutional positional embedding.</summary>
    /// <param name="kernel">Kernel width (128 published).</param>
    /// <param name="groups">Groups (16 published); must divide the model width.</param>
    public SpeechEncoderBuilder WithPositionalConv(int kernel, int groups) =>
        With(c => c with { PosConvKernel = kernel, PosConvGroups = groups });

    /// <summary>Sets dropouts; null leaves a value as it is.</summary>
    /// <param name="hidden">Residual dropout.</param>
    /// <param name="attention">Dropout on attention weights.</param>
    /// <param name="activation">Dropout after the feed-forward GELU.</param>
    /// <param name="featureProjection">Dropout after the feature projection.</param>
    /// <param name="layerDrop">Probability of skipping a layer in training.</param>
    public SpeechEncoderBuilder WithDropouts(double? hidden = null, double? attention = null, double? activation = null,
        double? featureProjection = null, double? layerDrop = null) =>
        With(c => c with
        {
            HiddenDropout = hidden ?? c.HiddenDropout,
            AttentionDropout = attention ?? c.AttentionDropout,
            ActivationDropout = activation ?? c.ActivationDropout,
            FeatureProjectionDropout = featureProjection ?? c.FeatureProjectionDropout,
            LayerDrop = layerDrop ?? c.LayerDrop,
        });

    /// <summary>Sets span masking (0 probability = no <c>masked_spec_embed</c>).</summary>
    public SpeechEncoderBuilder WithMasking(double probability, int length = 10, int minMasks = 2) =>
        With(c => c with { MaskTimeProb = probability, MaskTimeLength = length, MaskTimeMinMasks = minMasks });

    /// <summary>Sets the model family written to HF configs ("hubert" or "wav2vec2").</summary>
    public SpeechEncoderBuilder AsModelType(string modelType) => With(c => c with { ModelType = modelType });

    /// <summary>Validates and returns the config.</summary>
    /// <exception cref="HArnessValidationException">Values are invalid (every one named).</exception>
    public SpeechEncoderConfig BuildConfig()
    {
        Config.Validate();
        return Config;
    }

    /// <summary>Validates and builds the encoder with fresh weights.</summary>
    /// <exception cref="HArnessValidationException">Values are invalid (every one named).</exception>
    public SpeechEncoder Build() => new(BuildConfig());
}
