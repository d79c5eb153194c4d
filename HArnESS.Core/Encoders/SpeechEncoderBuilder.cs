using HArnESS.Modules;

namespace HArnESS.Encoders;

/// <summary>Fluent builder for <see cref="SpeechEncoder"/>s. Starts from the HuBERT-base config; each call
/// replaces part of it; <see cref="Build"/> validates (named <see cref="HArnessConfigException"/>s) and builds.
/// <code>
/// var student = SpeechEncoder.Create()
///     .WithFbankFrontEnd(melBins: 80, stack: 2)
///     .WithTransformer(layers: 2, dim: 768, heads: 12, ffn: 3072)
///     .PostLayerNorm()
///     .Build();
/// </code></summary>
public sealed class SpeechEncoderBuilder
{
    private SpeechEncoderConfig _config = new();

    /// <summary>The config built so far (not yet validated).</summary>
    public SpeechEncoderConfig Config => _config;

    /// <summary>Starts from an existing config.</summary>
    public SpeechEncoderBuilder FromConfig(SpeechEncoderConfig config)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        return this;
    }

    /// <summary>Starts from a preset (see <see cref="EncoderPresets.Names"/>).</summary>
    /// <exception cref="HArnessConfigException">The name is unknown.</exception>
    public SpeechEncoderBuilder FromPreset(string name) => FromConfig(EncoderPresets.Get(name));

    /// <summary>Uses a CNN on raw waveforms.</summary>
    /// <param name="layers">The conv stack, e.g. <see cref="ConvStack.Wav2Vec2"/>.</param>
    /// <param name="norm">Group norm on layer 0 (base) or layer norm on every layer (large/XLS-R).</param>
    /// <param name="bias">Conv biases (true in wav2vec2 large LV-60k / XLS-R).</param>
    public SpeechEncoderBuilder WithCnnFrontEnd(IReadOnlyList<ConvLayerSpec> layers, ConvNormMode norm = ConvNormMode.GroupNorm, bool bias = false)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _config = _config with { FrontEnd = FrontEndKind.Cnn, ConvLayers = layers.ToArray(), ConvNorm = norm, ConvBias = bias };
        return this;
    }

    /// <summary>Uses log-Mel filter banks, stacked <paramref name="stack"/> frames at a time and projected to
    /// <paramref name="projectionDim"/>, instead of the CNN.</summary>
    public SpeechEncoderBuilder WithFbankFrontEnd(int melBins = 80, int stack = 2, int projectionDim = 512)
    {
        _config = _config with { FrontEnd = FrontEndKind.Fbank, FbankMelBins = melBins, FbankStack = stack, FbankProjectionDim = projectionDim };
        return this;
    }

    /// <summary>Sets the transformer's shape.</summary>
    /// <param name="layers">Layers.</param>
    /// <param name="dim">Model width; must be divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="ffn">Feed-forward width; null = 4 × <paramref name="dim"/>.</param>
    public SpeechEncoderBuilder WithTransformer(int layers, int dim, int heads, int? ffn = null)
    {
        _config = _config with { NumLayers = layers, HiddenSize = dim, NumHeads = heads, IntermediateSize = ffn ?? 4 * dim };
        return this;
    }

    /// <summary>Post-LN layers (HuBERT/wav2vec2 base): layer norm after each residual, and before the stack.</summary>
    public SpeechEncoderBuilder PostLayerNorm()
    {
        _config = _config with { LayerNormFirst = false };
        return this;
    }

    /// <summary>Pre-LN layers ("stable layer norm": large, XLS-R): layer norm inside each residual branch and after the stack.</summary>
    public SpeechEncoderBuilder PreLayerNorm()
    {
        _config = _config with { LayerNormFirst = true };
        return this;
    }

    /// <summary>Sets the convolutional positional embedding.</summary>
    /// <param name="kernel">Kernel width (128 published).</param>
    /// <param name="groups">Groups (16 published); must divide the model width.</param>
    public SpeechEncoderBuilder WithPositionalConv(int kernel, int groups)
    {
        _config = _config with { PosConvKernel = kernel, PosConvGroups = groups };
        return this;
    }

    /// <summary>Sets dropouts; null leaves a value as it is.</summary>
    /// <param name="hidden">Residual dropout.</param>
    /// <param name="attention">Dropout on attention weights.</param>
    /// <param name="activation">Dropout after the feed-forward GELU.</param>
    /// <param name="featureProjection">Dropout after the feature projection.</param>
    /// <param name="layerDrop">Probability of skipping a layer in training.</param>
    public SpeechEncoderBuilder WithDropouts(double? hidden = null, double? attention = null, double? activation = null,
        double? featureProjection = null, double? layerDrop = null)
    {
        _config = _config with
        {
            HiddenDropout = hidden ?? _config.HiddenDropout,
            AttentionDropout = attention ?? _config.AttentionDropout,
            ActivationDropout = activation ?? _config.ActivationDropout,
            FeatureProjectionDropout = featureProjection ?? _config.FeatureProjectionDropout,
            LayerDrop = layerDrop ?? _config.LayerDrop,
        };
        return this;
    }

    /// <summary>Sets span masking (0 probability = no <c>masked_spec_embed</c>).</summary>
    public SpeechEncoderBuilder WithMasking(double probability, int length = 10, int minMasks = 2)
    {
        _config = _config with { MaskTimeProb = probability, MaskTimeLength = length, MaskTimeMinMasks = minMasks };
        return this;
    }

    /// <summary>Sets the model family written to HF configs ("hubert" or "wav2vec2").</summary>
    public SpeechEncoderBuilder AsModelType(string modelType)
    {
        _config = _config with { ModelType = modelType };
        return this;
    }

    /// <summary>Validates and returns the config.</summary>
    /// <exception cref="HArnessConfigException">A value is invalid (named).</exception>
    public SpeechEncoderConfig BuildConfig()
    {
        _config.Validate();
        return _config;
    }

    /// <summary>Validates and builds the encoder with fresh weights.</summary>
    /// <exception cref="HArnessConfigException">A value is invalid (named).</exception>
    public SpeechEncoder Build() => new(BuildConfig());
}
