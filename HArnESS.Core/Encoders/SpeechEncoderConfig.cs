using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using HArnESS.Modules;

namespace HArnESS.Encoders;

/// <summary>Everything that fixes a <see cref="SpeechEncoder"/>'s shape, its preprocessing and its regularisation:
/// a plain immutable record that round-trips through JSON (<see cref="ToJson"/>/<see cref="FromJson"/>). Defaults
/// are HuBERT base. Transformer field meanings follow HF's <c>HubertConfig</c>/<c>Wav2Vec2Config</c> (names in
/// brackets); the front-end is a <see cref="FrontEndConfig"/> section with a type tag.</summary>
public sealed record SpeechEncoderConfig
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        AllowOutOfOrderMetadataProperties = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Model family written to HF configs: "hubert" or "wav2vec2" (<c>model_type</c>).</summary>
    public string ModelType { get; init; } = "hubert";

    /// <summary>Sample rate in Hz of the waveforms <see cref="SpeechEncoder.Forward(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor?, int?)"/>
    /// expects (HF feature extractor's <c>sampling_rate</c>). Default 16000.</summary>
    public int SampleRate { get; init; } = Data.AudioDatasetOptions.DefaultSampleRate;

    /// <summary>When true the encoder normalises each waveform to zero mean and unit variance over its valid samples
    /// before the front-end (fairseq's <c>normalize</c>, HF's <c>do_normalize</c>; wav2vec2 large LV-60k and XLS-R
    /// were trained so). Default false (HuBERT, wav2vec2 base).</summary>
    public bool NormalizeWaveform { get; init; }

    /// <summary>The front-end: <see cref="CnnFrontEndConfig"/> (default: the wav2vec2 stack),
    /// <see cref="FbankFrontEndConfig"/> or <see cref="Conv1dSubsamplerConfig"/>.</summary>
    public FrontEndConfig FrontEnd { get; init; } = new CnnFrontEndConfig();

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
    public int FrontEndDim => FrontEnd?.OutputDim ?? 0;

    /// <summary>Whether the model has a <c>masked_spec_embed</c> parameter.</summary>
    [JsonIgnore]
    public bool HasMaskEmbedding => MaskTimeProb > 0;

    /// <summary>Checks every value against its range and <see cref="EncoderLimits"/>.</summary>
    /// <exception cref="HArnessValidationException">Every invalid value, each named by its property.</exception>
    public void Validate() => Validate(source: null);

    /// <summary>As <see cref="Validate()"/>, naming where the config came from (a <c>config.json</c>, a fairseq
    /// checkpoint) in the message.</summary>
    /// <param name="source">The file, or null.</param>
    /// <exception cref="HArnessValidationException">Every invalid value, each named by its property.</exception>
    public void Validate(string? source)
    {
        var errors = new ValidationErrors();
        Validate(errors);
        errors.ThrowIfAny(source is null ? nameof(SpeechEncoderConfig) : $"{nameof(SpeechEncoderConfig)} from '{source}'");
    }

    /// <summary>Adds every invalid value to <paramref name="errors"/> (front-end options as <c>FrontEnd.*</c>).</summary>
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        static void Probability(ValidationErrors e, double value, string name, bool closed = false)
        {
            if (double.IsNaN(value) || value < 0 || (closed ? value > 1 : value >= 1))
                e.Add(name, $"{name} must be in [0, 1{(closed ? "]" : ")")}, got {value}.");
        }
        if (ModelType is not ("hubert" or "wav2vec2"))
            errors.Add(nameof(ModelType), $"ModelType must be \"hubert\" or \"wav2vec2\", got \"{ModelType}\".");
        EncoderLimits.InRange(errors, SampleRate, EncoderLimits.MinSampleRate, EncoderLimits.MaxSampleRate, nameof(SampleRate));
        var frontEndOk = false;
        if (FrontEnd is null) errors.Add(nameof(FrontEnd), "FrontEnd must be given (a cnn, fbank or conv1d-subsampler section).");
        else
        {
            var before = errors.Errors.Count;
            FrontEnd.Validate(errors, SampleRate);
            frontEndOk = errors.Errors.Count == before;
        }
        var widthOk = EncoderLimits.InRange(errors, HiddenSize, 1, EncoderLimits.MaxWidth, nameof(HiddenSize));
        var layersOk = EncoderLimits.InRange(errors, NumLayers, 0, EncoderLimits.MaxLayers, nameof(NumLayers));
        var headsOk = EncoderLimits.InRange(errors, NumHeads, 1, EncoderLimits.MaxHeads, nameof(NumHeads));
        if (widthOk && headsOk && HiddenSize % NumHeads != 0)
        {
            errors.Add(nameof(NumHeads), $"HiddenSize {HiddenSize} is not divisible by NumHeads {NumHeads}.");
            headsOk = false;
        }
        var ffnOk = EncoderLimits.InRange(errors, IntermediateSize, 1, EncoderLimits.MaxIntermediateSize, nameof(IntermediateSize));
        var posOk = EncoderLimits.InRange(errors, PosConvKernel, 1, EncoderLimits.MaxPosConvKernel, nameof(PosConvKernel));
        var groupsOk = EncoderLimits.InRange(errors, PosConvGroups, 1, EncoderLimits.MaxWidth, nameof(PosConvGroups));
        if (widthOk && groupsOk && HiddenSize % PosConvGroups != 0)
        {
            errors.Add(nameof(PosConvGroups), $"PosConvGroups {PosConvGroups} does not divide HiddenSize {HiddenSize}.");
            groupsOk = false;
        }
        Probability(errors, HiddenDropout, nameof(HiddenDropout));
        Probability(errors, AttentionDropout, nameof(AttentionDropout));
        Probability(errors, ActivationDropout, nameof(ActivationDropout));
        Probability(errors, FeatureProjectionDropout, nameof(FeatureProjectionDropout));
        Probability(errors, LayerDrop, nameof(LayerDrop));
        if (!(LayerNormEps > 0) || !double.IsFinite(LayerNormEps))
            errors.Add(nameof(LayerNormEps), $"LayerNormEps must be positive, got {LayerNormEps}.");
        Probability(errors, MaskTimeProb, nameof(MaskTimeProb), closed: true);
        EncoderLimits.InRange(errors, MaskTimeLength, 1, EncoderLimits.MaxMaskLength, nameof(MaskTimeLength));
        EncoderLimits.InRange(errors, MaskTimeMinMasks, 0, EncoderLimits.MaxMaskLength, nameof(MaskTimeMinMasks));
        if (frontEndOk && widthOk && layersOk && headsOk && ffnOk && posOk && groupsOk)
        {
            var n = EncoderCost.CountParameters(this);
            if (n > EncoderLimits.MaxParameters)
                errors.Add(nameof(NumLayers), $"The config describes {n:N0} parameters; at most {EncoderLimits.MaxParameters:N0} are allowed (NumLayers {NumLayers}, HiddenSize {HiddenSize}, IntermediateSize {IntermediateSize}).");
        }
    }

    /// <summary>Serialises to indented JSON (property names as in this record, enums as strings, the front-end as an
    /// object with its <c>"type"</c> first).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a config written by <see cref="ToJson"/>; missing properties keep their defaults. Configs
    /// written before front-ends were sections (<c>"FrontEnd": "Cnn"</c> with <c>ConvLayers</c>, <c>ConvNorm</c>,
    /// <c>ConvBias</c>, <c>FbankMelBins</c>, <c>FbankStack</c>, <c>FbankProjectionDim</c>) are read too.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Where it came from, for messages (a file), or null.</param>
    /// <exception cref="HArnessConfigException">The JSON is malformed.</exception>
    /// <exception cref="HArnessValidationException">It describes an invalid config (every problem named).</exception>
    public static SpeechEncoderConfig FromJson(string json, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var where = source is null ? "Encoder config JSON" : $"Encoder config in '{source}'";
        SpeechEncoderConfig? config;
        try
        {
            config = JsonNode.Parse(json) is JsonObject o && o["FrontEnd"] is JsonValue
                ? UpgradeLegacy(o).Deserialize<SpeechEncoderConfig>(JsonOptions)
                : JsonSerializer.Deserialize<SpeechEncoderConfig>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new HArnessConfigException($"{where} is malformed at {e.Path}: {e.Message}", e.Path, e);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new HArnessConfigException($"{where} cannot be read: {e.Message}", "json", e);
        }
        if (config is null) throw new HArnessConfigException($"{where} is null.", "json");
        config.Validate(source);
        return config;
    }

    // The flat form of HArnESS 0.1: "FrontEnd": "Cnn" | "Fbank" beside ConvLayers/ConvNorm/ConvBias/Fbank*.
    private static JsonObject UpgradeLegacy(JsonObject o)
    {
        var kind = o["FrontEnd"]!.GetValue<string>();
        JsonNode? Take(string name)
        {
            var v = o[name];
            o.Remove(name);
            return v?.DeepClone();
        }
        var layers = Take("ConvLayers");
        var norm = Take("ConvNorm");
        var bias = Take("ConvBias");
        var bins = Take("FbankMelBins");
        var stack = Take("FbankStack");
        var proj = Take("FbankProjectionDim");
        var section = new JsonObject();
        if (string.Equals(kind, "Fbank", StringComparison.OrdinalIgnoreCase))
        {
            section["type"] = FbankFrontEndConfig.TypeName;
            if (bins is not null) section["Input"] = new JsonObject { ["Options"] = new JsonObject { ["NumMelBins"] = bins } };
            if (stack is not null) section["Stack"] = stack;
            if (proj is not null) section["ProjectionDim"] = proj;
        }
        else if (string.Equals(kind, "Cnn", StringComparison.OrdinalIgnoreCase))
        {
            section["type"] = CnnFrontEndConfig.TypeName;
            if (layers is not null) section["Layers"] = layers;
            if (norm is not null) section["Norm"] = norm;
            if (bias is not null) section["Bias"] = bias;
        }
        else throw new HArnessConfigException($"FrontEnd \"{kind}\" is not a known front-end (cnn, fbank, conv1d-subsampler).", nameof(FrontEnd));
        o["FrontEnd"] = section;
        return o;
    }

    /// <summary>Value equality including the front-end section.</summary>
    public bool Equals(SpeechEncoderConfig? other) =>
        other is not null && ModelType == other.ModelType && SampleRate == other.SampleRate && NormalizeWaveform == other.NormalizeWaveform &&
        Equals(FrontEnd, other.FrontEnd) && HiddenSize == other.HiddenSize && NumLayers == other.NumLayers &&
        NumHeads == other.NumHeads && IntermediateSize == other.IntermediateSize && LayerNormFirst == other.LayerNormFirst &&
        PosConvKernel == other.PosConvKernel && PosConvGroups == other.PosConvGroups && HiddenDropout == other.HiddenDropout &&
        AttentionDropout == other.AttentionDropout && ActivationDropout == other.ActivationDropout &&
        FeatureProjectionDropout == other.FeatureProjectionDropout && LayerDrop == other.LayerDrop && LayerNormEps == other.LayerNormEps &&
        MaskTimeProb == other.MaskTimeProb && MaskTimeLength == other.MaskTimeLength && MaskTimeMinMasks == other.MaskTimeMinMasks;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ModelType, FrontEnd, HiddenSize, NumLayers, NumHeads, IntermediateSize, LayerNormFirst, SampleRate);
}
