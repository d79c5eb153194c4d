using System.Text.RegularExpressions;

namespace HArnESS.Checkpoints;

/// <summary>
/// Maps checkpoint keys of the HF, torchaudio and fairseq layouts to HArnESS's names (HF <c>Wav2Vec2Model</c> keys
/// without a model prefix). Heads that an encoder does not use (CTC projections, quantizers, HuBERT's label
/// embeddings and final projection) map to null: they are reported as ignored, never as unexpected.
/// </summary>
/// <remarks>
/// The fairseq rules follow fairseq's <c>ConvFeatureExtractionModel</c> (<c>conv_layers.i.0</c> = conv,
/// <c>conv_layers.0.2</c> = group norm, <c>conv_layers.i.2.1</c> = layer norm inside
/// <c>Sequential(TransposeLast, Fp32LayerNorm, TransposeLast)</c>) and torchaudio's <c>import_fairseq</c>.
/// </remarks>
public static partial class CheckpointKeyMap
{
    /// <summary>Prefixes HF task models put before the encoder's keys.</summary>
    public static IReadOnlyList<string> HuggingFacePrefixes { get; } = ["wav2vec2.", "hubert.", "data2vec_audio.", "model."];

    private static readonly (Regex Pattern, string Replacement)[] FairseqRules =
    [
        (new(@"^feature_extractor\.conv_layers\.([0-9]{1,4})\.0\.(weight|bias)$"), "feature_extractor.conv_layers.$1.conv.$2"),
        (new(@"^feature_extractor\.conv_layers\.0\.2\.(weight|bias)$"), "feature_extractor.conv_layers.0.layer_norm.$1"),
        (new(@"^feature_extractor\.conv_layers\.([0-9]{1,4})\.2\.1\.(weight|bias)$"), "feature_extractor.conv_layers.$1.layer_norm.$2"),
        (new(@"^post_extract_proj\.(weight|bias)$"), "feature_projection.projection.$1"),
        (new(@"^layer_norm\.(weight|bias)$"), "feature_projection.layer_norm.$1"),
        (new(@"^encoder\.pos_conv\.0\.(bias|weight_g|weight_v)$"), "encoder.pos_conv_embed.conv.$1"),
        (new(@"^encoder\.pos_conv\.0\.parametrizations\.weight\.original0$"), "encoder.pos_conv_embed.conv.weight_g"),
        (new(@"^encoder\.pos_conv\.0\.parametrizations\.weight\.original1$"), "encoder.pos_conv_embed.conv.weight_v"),
        (new(@"^encoder\.layer_norm\.(weight|bias)$"), "encoder.layer_norm.$1"),
        (new(@"^encoder\.layers\.([0-9]{1,4})\.self_attn\.(k|v|q|out)_proj\.(weight|bias)$"), "encoder.layers.$1.attention.$2_proj.$3"),
        (new(@"^encoder\.layers\.([0-9]{1,4})\.self_attn_layer_norm\.(weight|bias)$"), "encoder.layers.$1.layer_norm.$2"),
        (new(@"^encoder\.layers\.([0-9]{1,4})\.fc1\.(weight|bias)$"), "encoder.layers.$1.feed_forward.intermediate_dense.$2"),
        (new(@"^encoder\.layers\.([0-9]{1,4})\.fc2\.(weight|bias)$"), "encoder.layers.$1.feed_forward.output_dense.$2"),
        (new(@"^encoder\.layers\.([0-9]{1,4})\.final_layer_norm\.(weight|bias)$"), "encoder.layers.$1.final_layer_norm.$2"),
        (new(@"^mask_emb$"), "masked_spec_embed"),
    ];

    private static readonly Regex FairseqIgnored = new(
        @"^(label_embs_concat|final_proj\..*|quantizer\..*|project_q\..*|target_glu\..*|proj\..*|w2v_encoder\.proj\..*|encoder\.pos_conv\.0\.weight)$");

    private static readonly Regex HuggingFaceIgnored = new(
        @"^(lm_head\..*|quantizer\..*|project_q\..*|project_hid\..*|final_proj\..*|label_embeddings_concat|projector\..*|classifier\..*|layer_weights|dropout_features\..*)$");

    private static readonly Regex TorchAudioIgnored = new(@"^aux\..*$");

    /// <summary>
    /// Guesses the layout from the key set: fairseq names (<c>post_extract_proj</c>, <c>self_attn</c>,
    /// <c>w2v_encoder.</c>), torchaudio names (<c>encoder.transformer.</c>), else HF.
    /// </summary>
    /// <param name="keys">All keys of the checkpoint's state dict.</param>
    public static CheckpointLayout DetectLayout(IEnumerable<string> keys)
    {
        int fairseq = 0, torchaudio = 0, hf = 0;
        foreach (var k in keys)
        {
            if (k.StartsWith("w2v_encoder.", StringComparison.Ordinal) || k.StartsWith("post_extract_proj.", StringComparison.Ordinal)
                || k.Contains(".self_attn.", StringComparison.Ordinal) || k.StartsWith("encoder.pos_conv.0.", StringComparison.Ordinal))
                fairseq++;
            else if (k.StartsWith("encoder.transformer.", StringComparison.Ordinal) || k.StartsWith("encoder.feature_projection.", StringComparison.Ordinal))
                torchaudio++;
            else if (k.Contains("feature_projection.", StringComparison.Ordinal) || k.Contains("pos_conv_embed.", StringComparison.Ordinal)
                     || k.Contains(".attention.", StringComparison.Ordinal))
                hf++;
        }
        if (fairseq > 0 && fairseq >= torchaudio && fairseq >= hf) return CheckpointLayout.Fairseq;
        if (torchaudio > 0 && torchaudio >= hf) return CheckpointLayout.TorchAudio;
        return CheckpointLayout.HuggingFace;
    }

    /// <summary>
    /// The HArnESS name of a checkpoint key; null when the key belongs to a head an encoder does not use (ignored).
    /// Unknown keys come back unchanged (after prefix removal), so they show up as unexpected when loading.
    /// </summary>
    /// <param name="key">Key as stored in the checkpoint.</param>
    /// <param name="layout">The checkpoint's layout.</param>
    public static string? MapKey(string key, CheckpointLayout layout)
    {
        ArgumentNullException.ThrowIfNull(key);
        switch (layout)
        {
            case CheckpointLayout.HuggingFace:
            {
                var k = StripPrefix(key, HuggingFacePrefixes);
                if (HuggingFaceIgnored.IsMatch(k)) return null;
                return k.Replace("pos_conv_embed.conv.parametrizations.weight.original0", "pos_conv_embed.conv.weight_g", StringComparison.Ordinal)
                        .Replace("pos_conv_embed.conv.parametrizations.weight.original1", "pos_conv_embed.conv.weight_v", StringComparison.Ordinal);
            }
            case CheckpointLayout.TorchAudio:
            {
                if (TorchAudioIgnored.IsMatch(key)) return null;
                if (key.StartsWith("encoder.feature_projection.", StringComparison.Ordinal))
                    return string.Concat("feature_projection.", key.AsSpan("encoder.feature_projection.".Length));
                if (key.StartsWith("encoder.transformer.", StringComparison.Ordinal))
                    return string.Concat("encoder.", key.AsSpan("encoder.transformer.".Length));
                return key;
            }
            case CheckpointLayout.Fairseq:
            {
                if (key.StartsWith("w2v_encoder.proj.", StringComparison.Ordinal)) return null;
                var k = StripPrefix(key, ["w2v_encoder.w2v_model.", "w2v_model.", "w2v_encoder."]);
                if (FairseqIgnored.IsMatch(k)) return null;
                foreach (var (pattern, replacement) in FairseqRules)
                    if (pattern.IsMatch(k)) return pattern.Replace(k, replacement);
                return k;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(layout), layout, null);
        }
    }

    /// <summary>
    /// Largest module index a kept key may carry in a numeric name segment (<c>encoder.layers.N.</c>,
    /// <c>conv_layers.N.</c>): 1023. Indices size the model built from the names, so a file cannot ask for more.
    /// </summary>
    public const int MaxModuleIndex = 1023;

    /// <summary>
    /// The module index of a dotted name segment: ASCII digits only (never other Unicode digits, which .NET's
    /// <c>\d</c> would match), at most <see cref="MaxModuleIndex"/>. Null when the segment is not such an index.
    /// </summary>
    /// <param name="segment">One segment of a dotted key.</param>
    public static int? ParseModuleIndex(ReadOnlySpan<char> segment)
    {
        if (segment.Length is 0 or > 4 || segment.ContainsAnyExceptInRange('0', '9')) return null;
        int v = int.Parse(segment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
        return v <= MaxModuleIndex ? v : null;
    }

    /// <summary>Maps every key; returns the renamed entries and the ignored keys.</summary>
    /// <exception cref="HArnessCheckpointException">
    /// Two checkpoint keys map to the same name, or a kept key has a numeric segment that is not an ASCII index up to
    /// <see cref="MaxModuleIndex"/> (say <c>encoder.layers.2147483646.fc1.weight</c>, or Arabic-Indic digits).
    /// </exception>
    public static (Dictionary<string, T> Mapped, List<string> Ignored) MapAll<T>(
        IReadOnlyDictionary<string, T> entries, CheckpointLayout layout, string? filePath = null)
    {
        var mapped = new Dictionary<string, T>(StringComparer.Ordinal);
        var from = new Dictionary<string, string>(StringComparer.Ordinal);
        var ignored = new List<string>();
        foreach (var (key, value) in entries)
        {
            var name = MapKey(key, layout);
            if (name is null)
            {
                ignored.Add(key);
                continue;
            }
            CheckIndices(key, name, filePath);
            if (!from.TryAdd(name, key))
                throw new HArnessCheckpointException($"Checkpoint keys '{from[name]}' and '{key}' both map to '{name}' ({layout} layout).", filePath);
            mapped[name] = value;
        }
        ignored.Sort(StringComparer.Ordinal);
        return (mapped, ignored);
    }

    private static void CheckIndices(string key, string name, string? filePath)
    {
        foreach (var range in name.AsSpan().Split('.'))
        {
            var seg = name.AsSpan()[range];
            bool digits = seg.Length > 0;
            foreach (var c in seg) digits &= char.IsDigit(c);
            if (digits && ParseModuleIndex(seg) is null)
                throw new HArnessCheckpointException(
                    $"Checkpoint key '{key}' has module index '{seg}', which is not an ASCII number from 0 to {MaxModuleIndex}.", filePath);
        }
    }

    private static string StripPrefix(string key, IReadOnlyList<string> prefixes)
    {
        foreach (var p in prefixes)
            if (key.StartsWith(p, StringComparison.Ordinal)) return key[p.Length..];
        return key;
    }
}
