using System.Text.RegularExpressions;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Serialization;

namespace HArnESS.Checkpoints;

/// <summary>
/// Infers a <see cref="SpeechEncoderConfig"/> from the tensor shapes of a state dict in HArnESS names.
/// </summary>
/// <remarks>
/// What the shapes show: conv channels and kernels (<c>conv_layers.i.conv.weight</c> <c>[out, in, kernel]</c>), conv
/// bias, the norm mode (a <c>layer_norm</c> on conv layer 1 means layer-norm mode, otherwise group norm on layer 0),
/// the width (<c>feature_projection.projection.weight</c>), the layer count (highest <c>encoder.layers.i</c>), the
/// feed-forward width, the positional conv kernel and groups (<c>weight_v</c> <c>[dim, dim / groups, kernel]</c>)
/// and whether <c>masked_spec_embed</c> exists. What they do not show, and how it is chosen: conv strides (kernel 10
/// → 5, 3 → 2, 2 → 2, else <see cref="CheckpointLoadOptions.ConvStrides"/>), attention heads (768 → 12, 1024, 1280,
/// 1920 → 16, else dim / 64, or <see cref="CheckpointLoadOptions.NumHeads"/>), pre- vs post-LN (pre-LN exactly with a
/// layer-norm conv stack, as in all published checkpoints, or <see cref="CheckpointLoadOptions.LayerNormFirst"/>),
/// epsilon and dropouts (defaults).
/// </remarks>
public static partial class ConfigInference
{
    /// <summary>Matches a CNN layer's conv weight key and captures its index.</summary>
    private static readonly Regex ConvWeight = new(@"^feature_extractor\.conv_layers\.(\d+)\.conv\.weight$", RegexOptions.Compiled);

    /// <summary>Matches a transformer layer key and captures its index.</summary>
    private static readonly Regex LayerIndex = new(@"^encoder\.layers\.(\d+)\.", RegexOptions.Compiled);

    /// <summary>Infers the config.</summary>
    /// <param name="shapes">Tensor shapes by HArnESS name.</param>
    /// <param name="options">Hints for what shapes cannot show; null for the defaults.</param>
    /// <param name="modelType">"hubert" or "wav2vec2" (shapes cannot tell them apart).</param>
    /// <param name="filePath">Checkpoint path for messages.</param>
    /// <exception cref="HArnessCheckpointException">A required tensor is missing or a value cannot be inferred.</exception>
    public static SpeechEncoderConfig Infer(IReadOnlyDictionary<string, IReadOnlyList<long>> shapes,
        CheckpointLoadOptions? options = null, string modelType = "wav2vec2", string? filePath = null)
    {
        options ??= CheckpointLoadOptions.Default;
        IReadOnlyList<long> Need(string key, int rank)
        {
            if (!shapes.TryGetValue(key, out var s))
                throw new HArnessCheckpointException($"Cannot infer the encoder config: checkpoint '{filePath}' has no tensor '{key}'.", filePath);
            if (s.Count != rank)
                throw new HArnessCheckpointException($"Cannot infer the encoder config: '{key}' in '{filePath}' has shape {CheckpointTensor.FormatShape(s)}, expected {rank} dimensions.", filePath);
            return s;
        }

        var convIdx = shapes.Keys.Select(k => ConvWeight.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).OrderBy(i => i).ToArray();
        if (convIdx.Length == 0 || convIdx[^1] != convIdx.Length - 1)
            throw new HArnessCheckpointException($"Cannot infer the encoder config: checkpoint '{filePath}' has no contiguous feature_extractor.conv_layers.i.conv.weight tensors.", filePath);
        if (options.ConvStrides is { } given && given.Count != convIdx.Length)
            throw new HArnessConfigException($"ConvStrides has {given.Count} entries but the checkpoint has {convIdx.Length} conv layers.", nameof(CheckpointLoadOptions.ConvStrides));
        var conv = new ConvLayerSpec[convIdx.Length];
        for (int i = 0; i < conv.Length; i++)
        {
            var w = Need($"feature_extractor.conv_layers.{i}.conv.weight", 3);
            int kernel = (int)w[2];
            int stride = options.ConvStrides?[i] ?? kernel switch
            {
                10 => 5,
                3 or 2 => 2,
                _ => throw new HArnessCheckpointException(
                    $"Cannot infer the stride of conv layer {i} (kernel {kernel}) from checkpoint '{filePath}'; pass CheckpointLoadOptions.ConvStrides or a config.", filePath),
            };
            conv[i] = new ConvLayerSpec((int)w[0], kernel, stride);
        }
        bool convBias = shapes.ContainsKey("feature_extractor.conv_layers.0.conv.bias");
        var norm = conv.Length > 1 && shapes.ContainsKey("feature_extractor.conv_layers.1.layer_norm.weight")
            ? ConvNormMode.LayerNorm : ConvNormMode.GroupNorm;

        var proj = Need("feature_projection.projection.weight", 2);
        int dim = (int)proj[0];
        int layers = shapes.Keys.Select(k => LayerIndex.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();
        int ffn = layers > 0 ? (int)Need("encoder.layers.0.feed_forward.intermediate_dense.weight", 2)[0] : 4 * dim;
        var v = Need("encoder.pos_conv_embed.conv.weight_v", 3);
        int posKernel = (int)v[2];
        int posGroups = v[1] > 0 && dim % v[1] == 0 ? (int)(dim / v[1]) : 1;
        int heads = options.NumHeads ?? dim switch
        {
            768 => 12,
            1024 or 1280 or 1920 => 16,
            _ when dim % 64 == 0 => dim / 64,
            _ => throw new HArnessCheckpointException(
                $"Cannot infer the attention heads for width {dim} from checkpoint '{filePath}'; pass CheckpointLoadOptions.NumHeads or a config.", filePath),
        };
        var defaults = new SpeechEncoderConfig();
        return defaults with
        {
            ModelType = modelType,
            ConvLayers = conv,
            ConvNorm = norm,
            ConvBias = convBias,
            HiddenSize = dim,
            NumLayers = layers,
            NumHeads = heads,
            IntermediateSize = ffn,
            LayerNormFirst = options.LayerNormFirst ?? norm == ConvNormMode.LayerNorm,
            PosConvKernel = posKernel,
            PosConvGroups = posGroups,
            MaskTimeProb = shapes.ContainsKey("masked_spec_embed") ? defaults.MaskTimeProb : 0,
        };
    }
}
