using System.Text.Json;
using System.Text.Json.Nodes;
using HArnESS.Encoders;
using HArnESS.Modules;

namespace HArnESS.Checkpoints;

/// <summary>
/// Reads and writes HF transformers' <c>config.json</c> for <c>Wav2Vec2Model</c>/<c>HubertModel</c> as a
/// <see cref="SpeechEncoderConfig"/>. Fields absent from a file keep the <see cref="SpeechEncoderConfig"/> defaults.
/// </summary>
/// <remarks>
/// Written files carry every field transformers needs to rebuild the model, plus two HArnESS fields that
/// transformers ignores: <c>harness_config</c>, the exact <see cref="SpeechEncoderConfig.ToJson"/> object (sample
/// rate, waveform normalisation, the front-end section with its type tag, fbank options and CMVN statistics), used
/// first when read back; and <c>harness_front_end</c>, the front-end's type tag. CNN models are complete HF configs
/// (<c>architectures</c>, <c>conv_dim</c>/<c>conv_kernel</c>/<c>conv_stride</c>, …) and load in transformers and
/// torchaudio as before. Other front-ends (fbank, conv1d-subsampler), which transformers has no class for, write the
/// transformer fields but no <c>architectures</c> and no <c>conv_*</c>/<c>feat_extract_*</c> fields, so
/// transformers cannot mistake them for a CNN model.
/// </remarks>
public static class HfConfigJson
{
    /// <summary>Name of the extra object holding HArnESS's own config.</summary>
    public const string HArnessConfigField = "harness_config";

    /// <summary>Name of the extra field holding the front-end's type tag (<c>cnn</c>, <c>fbank</c>, <c>conv1d-subsampler</c>).</summary>
    public const string FrontEndField = "harness_front_end";

    /// <summary>Reads a <c>config.json</c>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="HArnessConfigException">Malformed JSON or an unsupported value (named).</exception>
    public static SpeechEncoderConfig Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"Config '{path}' does not exist.", path);
        if (info.Length > 16 << 20) throw new HArnessConfigException($"Config '{path}' is {info.Length} bytes; a config.json is a few KB.", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Where it came from (for messages).</param>
    /// <exception cref="HArnessConfigException">Malformed JSON or an unsupported value (named).</exception>
    public static SpeechEncoderConfig Parse(string json, string source = "config.json")
    {
        JsonNode? root;
        // Duplicate keys are refused while parsing: JsonObject would otherwise throw ArgumentException on first access.
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new HArnessConfigException($"'{source}' is not valid JSON: {e.Message}", source, e); }
        if (root is not JsonObject o) throw new HArnessConfigException($"'{source}' must hold a JSON object.", source);
        if (o[HArnessConfigField] is JsonObject own) return SpeechEncoderConfig.FromJson(own.ToJsonString(), source);
        if (Str(o, FrontEndField, source) is { } kind && kind != CnnFrontEndConfig.TypeName)
            throw new HArnessConfigException($"'{source}': {FrontEndField} is '{kind}' but the file has no '{HArnessConfigField}' object describing it.", FrontEndField);

        var c = new SpeechEncoderConfig();
        string modelType = Str(o, "model_type", source) ?? c.ModelType;
        if (modelType is not ("hubert" or "wav2vec2"))
            throw new HArnessConfigException($"'{source}': model_type '{modelType}' is not supported (hubert, wav2vec2).", "model_type");
        foreach (var act in new[] { "hidden_act", "feat_extract_activation" })
            if (Str(o, act, source) is { } a && a != "gelu")
                throw new HArnessConfigException($"'{source}': {act} '{a}' is not supported (only gelu).", act);
        var norm = Str(o, "feat_extract_norm", source) ?? "group";
        if (norm is not ("group" or "layer"))
            throw new HArnessConfigException($"'{source}': feat_extract_norm '{norm}' must be 'group' or 'layer'.", "feat_extract_norm");
        if (o["feat_proj_layer_norm"] is JsonValue fpl && fpl.TryGetValue<bool>(out var hasFpl) && !hasFpl)
            throw new HArnessConfigException($"'{source}': feat_proj_layer_norm=false is not supported (the feature projection always has a layer norm).", "feat_proj_layer_norm");

        var dims = Ints(o, "conv_dim", source);
        var kernels = Ints(o, "conv_kernel", source);
        var strides = Ints(o, "conv_stride", source);
        var cnn = new CnnFrontEndConfig();
        var conv = cnn.Layers;
        if (dims is not null || kernels is not null || strides is not null)
        {
            dims ??= cnn.Layers.Select(l => l.Dim).ToArray();
            kernels ??= cnn.Layers.Select(l => l.Kernel).ToArray();
            strides ??= cnn.Layers.Select(l => l.Stride).ToArray();
            if (dims.Length != kernels.Length || dims.Length != strides.Length)
                throw new HArnessConfigException($"'{source}': conv_dim, conv_kernel and conv_stride have lengths {dims.Length}, {kernels.Length}, {strides.Length}; they must agree.", "conv_dim");
            conv = dims.Select((d, i) => new ConvLayerSpec(d, kernels[i], strides[i])).ToArray();
        }
        var config = c with
        {
            ModelType = modelType,
            FrontEnd = cnn with
            {
                Layers = conv,
                Norm = norm == "layer" ? ConvNormMode.LayerNorm : ConvNormMode.GroupNorm,
                Bias = Bool(o, "conv_bias", source) ?? cnn.Bias,
            },
            LayerNormFirst = Bool(o, "do_stable_layer_norm", source) ?? c.LayerNormFirst,
            HiddenSize = Int(o, "hidden_size", source) ?? c.HiddenSize,
            NumLayers = Int(o, "num_hidden_layers", source) ?? c.NumLayers,
            NumHeads = Int(o, "num_attention_heads", source) ?? c.NumHeads,
            IntermediateSize = Int(o, "intermediate_size", source) ?? c.IntermediateSize,
            PosConvKernel = Int(o, "num_conv_pos_embeddings", source) ?? c.PosConvKernel,
            PosConvGroups = Int(o, "num_conv_pos_embedding_groups", source) ?? c.PosConvGroups,
            LayerNormEps = Num(o, "layer_norm_eps", source) ?? c.LayerNormEps,
            HiddenDropout = Num(o, "hidden_dropout", source) ?? c.HiddenDropout,
            AttentionDropout = Num(o, "attention_dropout", source) ?? c.AttentionDropout,
            ActivationDropout = Num(o, "activation_dropout", source) ?? c.ActivationDropout,
            FeatureProjectionDropout = Num(o, "feat_proj_dropout", source) ?? c.FeatureProjectionDropout,
            LayerDrop = Num(o, "layerdrop", source) ?? c.LayerDrop,
            MaskTimeProb = Num(o, "mask_time_prob", source) ?? c.MaskTimeProb,
            MaskTimeLength = Int(o, "mask_time_length", source) ?? c.MaskTimeLength,
            MaskTimeMinMasks = Int(o, "mask_time_min_masks", source) ?? c.MaskTimeMinMasks,
        };
        config.Validate(source);
        return config;
    }

    /// <summary>The <c>config.json</c> text for a config (HF field names, <c>architectures</c>, <c>model_type</c>).</summary>
    /// <param name="config">The encoder config.</param>
    public static string ToJson(SpeechEncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        bool hubert = config.ModelType == "hubert";
        var o = new JsonObject();
        if (config.FrontEnd is CnnFrontEndConfig cnn)
        {
            var conv = cnn.Layers;
            o["architectures"] = new JsonArray(hubert ? "HubertModel" : "Wav2Vec2Model");
            o["model_type"] = config.ModelType;
            o["conv_dim"] = new JsonArray(conv.Select(l => (JsonNode)l.Dim).ToArray());
            o["conv_kernel"] = new JsonArray(conv.Select(l => (JsonNode)l.Kernel).ToArray());
            o["conv_stride"] = new JsonArray(conv.Select(l => (JsonNode)l.Stride).ToArray());
            o["num_feat_extract_layers"] = conv.Count;
            o["conv_bias"] = cnn.Bias;
            o["feat_extract_norm"] = cnn.Norm == ConvNormMode.LayerNorm ? "layer" : "group";
            o["feat_extract_activation"] = "gelu";
        }
        else o["model_type"] = config.ModelType;
        var rest = new JsonObject
        {
            ["feat_proj_layer_norm"] = true,
            ["do_stable_layer_norm"] = config.LayerNormFirst,
            ["hidden_size"] = config.HiddenSize,
            ["num_hidden_layers"] = config.NumLayers,
            ["num_attention_heads"] = config.NumHeads,
            ["intermediate_size"] = config.IntermediateSize,
            ["hidden_act"] = "gelu",
            ["num_conv_pos_embeddings"] = config.PosConvKernel,
            ["num_conv_pos_embedding_groups"] = config.PosConvGroups,
            ["layer_norm_eps"] = config.LayerNormEps,
            ["hidden_dropout"] = config.HiddenDropout,
            ["attention_dropout"] = config.AttentionDropout,
            ["activation_dropout"] = config.ActivationDropout,
            ["feat_proj_dropout"] = config.FeatureProjectionDropout,
            ["final_dropout"] = 0.0,
            ["layerdrop"] = config.LayerDrop,
            ["apply_spec_augment"] = config.HasMaskEmbedding,
            ["mask_time_prob"] = config.MaskTimeProb,
            ["mask_time_length"] = config.MaskTimeLength,
            ["mask_time_min_masks"] = config.MaskTimeMinMasks,
            ["mask_feature_prob"] = 0.0,
            ["mask_feature_length"] = 10,
            ["initializer_range"] = 0.02,
            ["torch_dtype"] = "float32",
            [FrontEndField] = config.FrontEnd.Kind,
            [HArnessConfigField] = JsonNode.Parse(config.ToJson()),
        };
        foreach (var (k, v) in rest.ToList())
        {
            rest.Remove(k);
            o[k] = v;
        }
        if (!hubert) o["feat_quantizer_dropout"] = 0.0;
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonNode? Field(JsonObject o, string name) => o.TryGetPropertyValue(name, out var v) ? v : null;

    private static string? Str(JsonObject o, string name, string source) => Field(o, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw Bad(source, name, "a string"),
    };

    private static bool? Bool(JsonObject o, string name, string source) => Field(o, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        _ => throw Bad(source, name, "true or false"),
    };

    private static double? Num(JsonObject o, string name, string source) => Field(o, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => throw Bad(source, name, "a number"),
    };

    private static int? Int(JsonObject o, string name, string source) => Field(o, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue => (int)d,
        _ => throw Bad(source, name, "an integer"),
    };

    private static int[]? Ints(JsonObject o, string name, string source)
    {
        var node = Field(o, name);
        if (node is null) return null;
        if (node is not JsonArray a || a.Count > 64) throw Bad(source, name, "an array of at most 64 integers");
        var r = new int[a.Count];
        for (int i = 0; i < r.Length; i++)
            r[i] = a[i] is JsonValue v && v.TryGetValue<int>(out var x) ? x : throw Bad(source, name, "an array of integers");
        return r;
    }

    private static HArnessConfigException Bad(string source, string name, string expected) =>
        new($"'{source}': '{name}' must be {expected}.", name);

}
