using HArnESS.Encoders;

namespace HArnESS.Modules;

/// <summary>The wav2vec2/HuBERT convolution stack on raw waveforms (<c>"type": "cnn"</c>; module
/// <see cref="ConvFeatureExtractor"/>, keys <c>feature_extractor.conv_layers.{i}.*</c>). HF's <c>conv_dim</c>,
/// <c>conv_kernel</c>, <c>conv_stride</c>, <c>conv_bias</c> and <c>feat_extract_norm</c>.</summary>
public sealed record CnnFrontEndConfig : FrontEndConfig
{
    /// <summary>The JSON type tag.</summary>
    public const string TypeName = "cnn";

    /// <summary>The convolutions in order (default <see cref="ConvStack.Wav2Vec2"/>).</summary>
    public IReadOnlyList<ConvLayerSpec> Layers { get; init; } = ConvStack.Wav2Vec2;

    /// <summary>Group norm on the first layer (base) or layer norm on every layer (large, XLS-R).</summary>
    public ConvNormMode Norm { get; init; } = ConvNormMode.GroupNorm;

    /// <summary>Whether the convolutions have biases (true in wav2vec2 large LV-60k / XLS-R).</summary>
    public bool Bias { get; init; }

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Kind => TypeName;

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override string ModuleName => "feature_extractor";

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override bool TakesWaveforms => true;

    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override int OutputDim => Layers is { Count: > 0 } ? Layers[^1].Dim : 0;

    /// <inheritdoc/>
    public override long InputFrames(long samples) => samples;

    /// <inheritdoc/>
    /// <remarks>Each layer: <c>max(0, floor((n - kernel) / stride) + 1)</c> (torchaudio's <c>ConvLayerBlock</c>).</remarks>
    public override long OutputFramesFromInput(long inputFrames)
    {
        foreach (var spec in Layers) inputFrames = spec.OutputFrames(inputFrames);
        return inputFrames;
    }

    /// <inheritdoc/>
    public override long CountParameters()
    {
        long n = 0, inCh = 1;
        for (var i = 0; i < Layers.Count; i++)
        {
            var s = Layers[i];
            n += s.Dim * inCh * s.Kernel + (Bias ? s.Dim : 0);
            if (Norm == ConvNormMode.LayerNorm || i == 0) n += 2L * s.Dim; // norm weight + bias
            inCh = s.Dim;
        }
        return n;
    }

    /// <inheritdoc/>
    public override long CountMacs(long samples)
    {
        long macs = 0, inCh = 1, t = samples;
        foreach (var s in Layers)
        {
            t = s.OutputFrames(t);
            macs += t * s.Dim * inCh * s.Kernel;
            inCh = s.Dim;
        }
        return macs;
    }

    /// <inheritdoc/>
    public override void Validate(ValidationErrors errors, int? sampleRate = null)
    {
        ArgumentNullException.ThrowIfNull(errors);
        const string layers = Prefix + "." + nameof(Layers);
        if (Layers is null || Layers.Count == 0)
        {
            errors.Add(layers, $"{layers}: the conv stack is empty; give at least one (dim, kernel, stride).");
            return;
        }
        if (Layers.Count > EncoderLimits.MaxConvLayers)
        {
            errors.Add(layers, $"{layers} has {Layers.Count} convolutions; at most {EncoderLimits.MaxConvLayers} are allowed.");
            return;
        }
        if (!Enum.IsDefined(Norm)) errors.Add($"{Prefix}.{nameof(Norm)}", $"{Prefix}.{nameof(Norm)} {(int)Norm} is not a known norm mode.");
        for (var i = 0; i < Layers.Count; i++)
        {
            var s = Layers[i];
            if (s.Dim is < 1 or > EncoderLimits.MaxConvChannels || s.Kernel is < 1 or > EncoderLimits.MaxConvKernel
                || s.Stride is < 1 or > EncoderLimits.MaxConvKernel)
                errors.Add($"{layers}[{i}]",
                    $"{layers}[{i}] is {s}; dim must be in [1, {EncoderLimits.MaxConvChannels}], kernel and stride in [1, {EncoderLimits.MaxConvKernel}].");
        }
    }

    /// <inheritdoc/>
    public override IFrontEnd Create() => new ConvFeatureExtractor(this);

    /// <summary>Value equality including the layers' elements.</summary>
    public bool Equals(CnnFrontEndConfig? other) =>
        other is not null && Norm == other.Norm && Bias == other.Bias && Layers.SequenceEqual(other.Layers);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Norm, Bias, Layers.Count, Layers.Count > 0 ? Layers[0] : default);
}
