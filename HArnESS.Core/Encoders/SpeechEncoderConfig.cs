using System.Text.Json;
using System.Text.Json.Serialization;
using HArnESS.Modules;

namespace HArnESS.Encoders;

/// <summary>Everything that fixes a <see cref="SpeechEncoder"/>'s shape and regularisation: a plain immutable record
/// that round-trips through JSON (<see cref="ToJson"/>/<see cref="FromJson"/>). Defaults are HuBERT base.
/// Field meanings follow HF's <c>HubertConfig</c>/<c>Wav2Vec2Config</c> (names in brackets).</summary>
public sealed record SpeechEncoderConfig
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Model family written to HF configs: "hubert" or "wav2vec2" (<c>model_type</c>).</summary>
    public string ModelType { get; init; } = "hubert";

    /// <summary>CNN on waveforms or fbank front-end.</summary>
    public FrontEndKind FrontEnd { get; init; } = FrontEndKind.Cnn;

    /// <summary>CNN stack (<c>conv_dim/conv_kernel/conv_stride</c>); used when <see cref="FrontEnd"/> is Cnn.</summary>
    public IReadOnlyList<ConvLayerSpec> ConvLayers { get; init; } = ConvStack.Wav2Vec2;

    /// <summary>CNN normalisation (<c>feat_extract_norm</c>: "group" / "layer").</summary>
    public ConvNormMode ConvNorm { get; init; } = ConvNormMode.GroupNorm;

    /// <summary>Whether CNN convolutions have biases (<c>conv_bias</c>).</summary>
    public bool ConvBias { get; init; }

    /// <summary>Mel bins of the fbank front-end.</summary>
    public int FbankMelBins { get; init; } = 80;

    /// <summary>10 ms fbank frames stacked per output frame (2 → 50 Hz, like the CNN).</summary>
    public int FbankStack { get; init; } = 2;

    /// <summary>Output dim of the fbank front-end's linear projection (the CNN's output dim, 512, by default).</summary>
    public int FbankProjectionDim { get; init; } = 512;

    /// <summary>Model width (<c>hidden_size</c>).</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Transformer layers (<c>num_hidden_layers</c>).</summary>
    public int NumLayers { get; init; } = 12;

    /// <summary>Attention heads (<c>num_attention_heads</c>).</summary>
    public int NumHeads { get; init; } = 12;

    /// <summary>Feed-forward hidden width (<c>intermediate_size</c>).</summary>
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>Pre-LN ("stable layer norm", <c>do_stable_layer_norm</c>) when true; post-LN when false.</summary>
    public bool LayerNormFirst { get; init; }

    /// <summary>Positional conv kernel (<c>num_conv_pos_embeddings</c>).</summary>
    public int PosConvKernel { get; init; } = 128;

    /// <summary>Positional conv groups (<c>num_conv_pos_embedding_groups</c>).</summary>
    public int PosConvGroups { get; init; } = 16;

    /// <summary>Residual dropout (<c>hidden_dropout</c>; torchaudio <c>encoder_dropout</c>).</summary>
    public double HiddenDropout { get; init; } = 0.1;

    /// <summary>Dropout on attention weights (<c>attention_dropout</c>).</summary>
    public double AttentionDropout { get; init; } = 0.1;

    /// <summary>Dropout after the feed-forward GELU (<c>activation_dropout</c>).</summary>
    public double ActivationDropout { get; init; } = 0.1;

    /// <summary>Dropout after the feature projection (<c>feat_proj_dropout</c>; torchaudio <c>encoder_projection_dropout</c>).</summary>
    public double FeatureProjectionDropout { get; init; } = 0.1;

    /// <summary>Probability of skipping each layer in training (<c>layerdrop</c>).</summary>
    public double LayerDrop { get; init; } = 0.1;

    /// <summary>Layer-norm epsilon (<c>layer_norm_eps</c>).</summary>
    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Span-mask probability (<c>mask_time_prob</c>). When positive the model owns
    /// <c>masked_spec_embed</c> (as HF does); 0 drops it (torchaudio's <c>Wav2Vec2Model</c> has none).</summary>
    public double MaskTimeProb { get; init; } = 0.05;

    /// <summary>Span length in frames (<c>mask_time_length</c>).</summary>
    public int MaskTimeLength { get; init; } = 10;

    /// <summary>Minimum spans per utterance (<c>mask_time_min_masks</c>).</summary>
    public int MaskTimeMinMasks { get; init; } = 2;

    /// <summary>Front-end feature dim fed to the feature projection.</summary>
    [JsonIgnore]
    public int FrontEndDim => FrontEnd == FrontEndKind.Cnn ? (ConvLayers.Count > 0 ? ConvLayers[^1].Dim : 0) : FbankProjectionDim;

    /// <summary>Whether the model has a <c>masked_spec_embed</c> parameter.</summary>
    [JsonIgnore]
    public bool HasMaskEmbedding => MaskTimeProb > 0;

    /// <summary>Checks every value.</summary>
    /// <exception cref="HArnessConfigException">The first invalid value, named by its property.</exception>
    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0) throw new HArnessConfigException($"{name} must be positive, got {value}.", name);
        }
        static void Probability(double value, string name)
        {
            if (value is < 0 or >= 1 || double.IsNaN(value))
                throw new HArnessConfigException($"{name} must be in [0, 1), got {value}.", name);
        }
        if (ModelType is not ("hubert" or "wav2vec2"))
            throw new HArnessConfigException($"ModelType must be \"hubert\" or \"wav2vec2\", got \"{ModelType}\".", nameof(ModelType));
        if (FrontEnd == FrontEndKind.Cnn)
        {
            if (ConvLayers is null || ConvLayers.Count == 0)
                throw new HArnessConfigException("ConvLayers: the conv stack is empty; give at least one (dim, kernel, stride).", nameof(ConvLayers));
            for (var i = 0; i < ConvLayers.Count; i++)
            {
                var s = ConvLayers[i];
                if (s.Dim <= 0 || s.Kernel <= 0 || s.Stride <= 0)
                    throw new HArnessConfigException($"ConvLayers[{i}] is {s}; dim, kernel and stride must be positive.", $"{nameof(ConvLayers)}[{i}]");
            }
        }
        else
        {
            Positive(FbankMelBins, nameof(FbankMelBins));
            Positive(FbankStack, nameof(FbankStack));
            Positive(FbankProjectionDim, nameof(FbankProjectionDim));
        }
        Positive(HiddenSize, nameof(HiddenSize));
        if (NumLayers < 0) throw new HArnessConfigException($"NumLayers must be non-negative, got {NumLayers}.", nameof(NumLayers));
        Positive(NumHeads, nameof(NumHeads));
        if (HiddenSize % NumHeads != 0)
            throw new HArnessConfigException($"HiddenSize {HiddenSize} is not divisible by NumHeads {NumHeads}.", nameof(NumHeads));
        Positive(IntermediateSize, nameof(IntermediateSize));
        Positive(PosConvKernel, nameof(PosConvKernel));
        Positive(PosConvGroups, nameof(PosConvGroups));
        if (HiddenSize % PosConvGroups != 0)
            throw new HArnessConfigException($"PosConvGroups {PosConvGroups} does not divide HiddenSize {HiddenSize}.", nameof(PosConvGroups));
        Probability(HiddenDropout, nameof(HiddenDropout));
        Probability(AttentionDropout, nameof(AttentionDropout));
        Probability(ActivationDropout, nameof(ActivationDropout));
        Probability(FeatureProjectionDropout, nameof(FeatureProjectionDropout));
        Probability(LayerDrop, nameof(LayerDrop));
        if (LayerNormEps <= 0 || double.IsNaN(LayerNormEps))
            throw new HArnessConfigException($"LayerNormEps must be positive, got {LayerNormEps}.", nameof(LayerNormEps));
        if (MaskTimeProb is < 0 or > 1 || double.IsNaN(MaskTimeProb))
            throw new HArnessConfigException($"MaskTimeProb must be in [0, 1], got {MaskTimeProb}.", nameof(MaskTimeProb));
        Positive(MaskTimeLength, nameof(MaskTimeLength));
        if (MaskTimeMinMasks < 0)
            throw new HArnessConfigException($"MaskTimeMinMasks must be non-negative, got {MaskTimeMinMasks}.", nameof(MaskTimeMinMasks));
    }

    /// <summary>Serialises to indented JSON (property names as in this record, enums as strings).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a config written by <see cref="ToJson"/>; missing properties keep their defaults.</summary>
    /// <exception cref="HArnessConfigException">The JSON is malformed or describes an invalid config.</exception>
    public static SpeechEncoderConfig FromJson(string json)
    {
        SpeechEncoderConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<SpeechEncoderConfig>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new HArnessConfigException($"Encoder config JSON is malformed at {e.Path}: {e.Message}", e.Path, e);
        }
        if (config is null) throw new HArnessConfigException("Encoder config JSON is null.", "json");
        config.Validate();
        return config;
    }

    /// <summary>Value equality including the conv stack's elements.</summary>
    public bool Equals(SpeechEncoderConfig? other) =>
        other is not null && ModelType == other.ModelType && FrontEnd == other.FrontEnd && ConvLayers.SequenceEqual(other.ConvLayers) &&
        ConvNorm == other.ConvNorm && ConvBias == other.ConvBias && FbankMelBins == other.FbankMelBins && FbankStack == other.FbankStack &&
        FbankProjectionDim == other.FbankProjectionDim && HiddenSize == other.HiddenSize && NumLayers == other.NumLayers &&
        NumHeads == other.NumHeads && IntermediateSize == other.IntermediateSize && LayerNormFirst == other.LayerNormFirst &&
        PosConvKernel == other.PosConvKernel && PosConvGroups == other.PosConvGroups && HiddenDropout == other.HiddenDropout &&
        AttentionDropout == other.AttentionDropout && ActivationDropout == other.ActivationDropout &&
        FeatureProjectionDropout == other.FeatureProjectionDropout && LayerDrop == other.LayerDrop && LayerNormEps == other.LayerNormEps &&
        MaskTimeProb == other.MaskTimeProb && MaskTimeLength == other.MaskTimeLength && MaskTimeMinMasks == other.MaskTimeMinMasks;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ModelType, FrontEnd, ConvLayers.Count, HiddenSize, NumLayers, NumHeads, IntermediateSize, LayerNormFirst);
}
