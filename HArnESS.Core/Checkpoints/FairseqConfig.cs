using System.Globalization;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Serialization;

namespace HArnESS.Checkpoints;

/// <summary>
/// Reads the model config a fairseq checkpoint carries: <c>cfg["model"]</c> (fairseq ≥ 0.10, a dict), or the older
/// <c>args</c> (<c>argparse.Namespace</c>); for fine-tuned models the pretraining model's config inside
/// <c>w2v_args</c>. Missing fields take fairseq's defaults (which are HuBERT/wav2vec2 base).
/// </summary>
public static class FairseqConfig
{
    /// <summary>The config in a fairseq checkpoint, or null when it has none readable (e.g. omegaconf placeholders).</summary>
    /// <param name="root">The unpickled checkpoint (<see cref="TorchPickleReader.Root"/>).</param>
    /// <param name="filePath">For messages.</param>
    /// <exception cref="HArnessCheckpointException">A field has an unusable value (named).</exception>
    public static SpeechEncoderConfig? TryRead(object? root, string? filePath = null)
    {
        if (root is not Dictionary<object, object?> top) return null;
        IReadOnlyDictionary<object, object?>? model = null;
        string? outerName = null, taskName = null;
        if (top.TryGetValue("cfg", out var cfg) && AsMap(cfg) is { } cfgMap)
        {
            var m = AsMap(Get(cfgMap, "model"));
            taskName = Get(AsMap(Get(cfgMap, "task")), "_name") as string;
            outerName = Get(m, "_name") as string;
            model = AsMap(Get(AsMap(Get(m, "w2v_args")), "model")) ?? m;
        }
        if (model is null && top.TryGetValue("args", out var args) && AsMap(args) is { } argMap)
        {
            outerName = Get(argMap, "arch") as string;
            taskName = Get(argMap, "task") as string;
            model = AsMap(Get(argMap, "w2v_args")) ?? argMap;
        }
        if (model is null) return null;

        string name = (Get(model, "_name") as string) ?? (Get(model, "arch") as string) ?? outerName ?? "";
        bool hubert = name.Contains("hubert", StringComparison.OrdinalIgnoreCase)
                      || (outerName ?? "").Contains("hubert", StringComparison.OrdinalIgnoreCase)
                      || (taskName ?? "").Contains("hubert", StringComparison.OrdinalIgnoreCase);
        var d = new SpeechEncoderConfig();
        var mode = Get(model, "extractor_mode") as string ?? "default";
        if (mode is not ("default" or "layer_norm"))
            throw new HArnessCheckpointException($"fairseq checkpoint '{filePath}': extractor_mode '{mode}' is not supported (default, layer_norm).", filePath);
        var convText = Get(model, "conv_feature_layers") as string;
        var config = d with
        {
            ModelType = hubert ? "hubert" : "wav2vec2",
            FrontEnd = new CnnFrontEndConfig
            {
                Layers = convText is null ? ConvStack.Wav2Vec2 : ParseConvLayers(convText, filePath),
                Norm = mode == "layer_norm" ? ConvNormMode.LayerNorm : ConvNormMode.GroupNorm,
                Bias = Bool(model, "conv_bias") ?? false,
            },
            HiddenSize = Int(model, "encoder_embed_dim") ?? 768,
            NumLayers = Int(model, "encoder_layers") ?? 12,
            NumHeads = Int(model, "encoder_attention_heads") ?? 12,
            IntermediateSize = Int(model, "encoder_ffn_embed_dim") ?? 3072,
            LayerNormFirst = Bool(model, "layer_norm_first") ?? false,
            PosConvKernel = Int(model, "conv_pos") ?? 128,
            PosConvGroups = Int(model, "conv_pos_groups") ?? 16,
            HiddenDropout = Num(model, "dropout") ?? d.HiddenDropout,
            AttentionDropout = Num(model, "attention_dropout") ?? d.AttentionDropout,
            ActivationDropout = Num(model, "activation_dropout") ?? d.ActivationDropout,
            FeatureProjectionDropout = Num(model, "dropout_input") ?? d.FeatureProjectionDropout,
            LayerDrop = Num(model, "encoder_layerdrop") ?? d.LayerDrop,
            MaskTimeProb = Num(model, "mask_prob") ?? d.MaskTimeProb,
            MaskTimeLength = Int(model, "mask_length") ?? d.MaskTimeLength,
        };
        config.Validate(filePath is null ? "fairseq checkpoint" : $"fairseq checkpoint '{filePath}'");
        return config;
    }

    /// <summary>
    /// Parses fairseq's <c>conv_feature_layers</c> expression, e.g.
    /// <c>"[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] * 2"</c>: lists of (dim, kernel, stride) triples joined by
    /// <c>+</c>, each optionally repeated with <c>* n</c>. Nothing is evaluated.
    /// </summary>
    /// <param name="text">The expression.</param>
    /// <param name="filePath">For messages.</param>
    /// <exception cref="HArnessCheckpointException">The text is not of that form.</exception>
    public static IReadOnlyList<ConvLayerSpec> ParseConvLayers(string text, string? filePath = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        int pos = 0;
        var result = new List<ConvLayerSpec>();
        HArnessCheckpointException Bad(string what) =>
            new($"fairseq checkpoint '{filePath}': conv_feature_layers \"{text}\" {what} at character {pos}.", filePath);
        void Ws() { while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++; }
        bool Eat(char c) { Ws(); if (pos < text.Length && text[pos] == c) { pos++; return true; } return false; }
        void Expect(char c) { if (!Eat(c)) throw Bad($"expected '{c}'"); }
        int Number()
        {
            Ws();
            int start = pos;
            while (pos < text.Length && char.IsAsciiDigit(text[pos])) pos++;
            if (start == pos || pos - start > 9) throw Bad("expected a number");
            return int.Parse(text.AsSpan(start, pos - start), CultureInfo.InvariantCulture);
        }
        do
        {
            Expect('[');
            var block = new List<ConvLayerSpec>();
            if (!Eat(']'))
            {
                do
                {
                    Expect('(');
                    int dim = Number(); Expect(',');
                    int kernel = Number(); Expect(',');
                    int stride = Number(); Eat(',');
                    Expect(')');
                    block.Add(new ConvLayerSpec(dim, kernel, stride));
                } while (Eat(',') && !PeekIs(']'));
                Expect(']');
            }
            int repeat = Eat('*') ? Number() : 1;
            if (repeat > 1024 || result.Count + block.Count * repeat > 1024) throw Bad("has too many layers");
            for (int r = 0; r < repeat; r++) result.AddRange(block);
        } while (Eat('+'));
        Ws();
        if (pos != text.Length) throw Bad("has trailing text");
        return result;

        bool PeekIs(char c) { Ws(); return pos < text.Length && text[pos] == c; }
    }

    private static IReadOnlyDictionary<object, object?>? AsMap(object? o) => o switch
    {
        Dictionary<object, object?> d => d,
        PickleObject { State: Dictionary<object, object?> s } => s, // argparse.Namespace
        PickleObject { Entries.Count: > 0 } p => p.Entries,
        _ => null,
    };

    private static object? Get(IReadOnlyDictionary<object, object?>? map, string key) =>
        map is not null && map.TryGetValue(key, out var v) ? v : null;

    private static int? Int(IReadOnlyDictionary<object, object?> m, string key) => Get(m, key) switch
    {
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        long l => throw new HArnessConfigException($"fairseq config field '{key}' is {l}, outside the 32-bit range.", key),
        System.Numerics.BigInteger b => throw new HArnessConfigException($"fairseq config field '{key}' is {b}, outside the 32-bit range.", key),
        _ => null,
    };

    private static bool? Bool(IReadOnlyDictionary<object, object?> m, string key) => Get(m, key) is bool b ? b : null;

    private static double? Num(IReadOnlyDictionary<object, object?> m, string key) => Get(m, key) switch
    {
        double d => d,
        long l => l,
        _ => null,
    };
}
