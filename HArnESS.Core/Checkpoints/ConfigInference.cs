using System.Globalization;
using System.Text.RegularExpressions;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Serialization;

namespace HArnESS.Checkpoints;

/// <summary>
/// Infers a <see cref="SpeechEncoderConfig"/> from the tensor shapes of a state dict in HArnESS names (a checkpoint
/// without <c>config.json</c>). Nothing is guessed silently: every value the shapes do not show is listed as an
/// <see cref="InferredConfigField"/>, and what cannot be chosen safely is refused, naming the option to pass.
/// </summary>
/// <remarks>
/// What the shapes show: conv channels and kernels (<c>conv_layers.i.conv.weight</c> <c>[out, in, kernel]</c>), conv
/// bias, the norm mode (a <c>layer_norm</c> on conv layer 1 means layer-norm mode, otherwise group norm on layer 0),
/// the width (<c>feature_projection.projection.weight</c>), the layer count (highest <c>encoder.layers.i</c>), the
/// feed-forward width, the positional conv kernel and groups (<c>weight_v</c> <c>[dim, dim / groups, kernel]</c>)
/// and whether <c>masked_spec_embed</c> exists. Every shape is checked against <see cref="EncoderLimits"/> first.
/// What they do not show, and how it is chosen (each listed): conv strides (kernel 10 → 5, 3 → 2, 2 → 2, the
/// wav2vec2 stack; other kernels need <see cref="CheckpointLoadOptions.ConvStrides"/>); attention heads (only the
/// published widths: 768 → 12, 1024, 1280, 1920 → 16; any other width needs
/// <see cref="CheckpointLoadOptions.NumHeads"/>); pre- vs post-LN (pre-LN exactly with a layer-norm conv stack, as in
/// all published checkpoints, or <see cref="CheckpointLoadOptions.LayerNormFirst"/>); the model type; epsilon,
/// dropouts and mask settings (defaults).
/// </remarks>
public static partial class ConfigInference
{
    /// <summary>Matches a CNN layer's conv weight key and captures its index (ASCII digits, at most 4).</summary>
    private static readonly Regex ConvWeight = new(@"^feature_extractor\.conv_layers\.([0-9]{1,4})\.conv\.weight$", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>Matches a transformer layer key and captures its index (ASCII digits, at most 4).</summary>
    private static readonly Regex LayerIndex = new(@"^encoder\.layers\.([0-9]{1,4})\.", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>Attention heads of the published models by width.</summary>
    public static IReadOnlyDictionary<int, int> PublishedHeads { get; } = new Dictionary<int, int>
    {
        [768] = 12, [1024] = 16, [1280] = 16, [1920] = 16,
    };

    /// <summary>Infers the config (see <see cref="InferWithFields"/> for what was chosen).</summary>
    /// <param name="shapes">Tensor shapes by HArnESS name.</param>
    /// <param name="options">Hints for what shapes cannot show; null for the defaults.</param>
    /// <param name="modelType">"hubert" or "wav2vec2" (shapes cannot tell them apart).</param>
    /// <param name="filePath">Checkpoint path for messages.</param>
    /// <exception cref="HArnessCheckpointException">A required tensor is missing, a shape is past a limit, or a value
    /// cannot be inferred (the message names the option to pass).</exception>
    public static SpeechEncoderConfig Infer(IReadOnlyDictionary<string, IReadOnlyList<long>> shapes,
        CheckpointLoadOptions? options = null, string modelType = "wav2vec2", string? filePath = null) =>
        InferWithFields(shapes, options, modelType, filePath).Config;

    /// <summary>Infers the config and lists every value the shapes did not show.</summary>
    /// <param name="shapes">Tensor shapes by HArnESS name.</param>
    /// <param name="options">Hints for what shapes cannot show; null for the defaults.</param>
    /// <param name="modelType">"hubert" or "wav2vec2" (shapes cannot tell them apart).</param>
    /// <param name="filePath">Checkpoint path for messages.</param>
    /// <param name="modelTypeReason">Why <paramref name="modelType"/> (listed as inferred), or null when it was given.</param>
    /// <exception cref="HArnessCheckpointException">A required tensor is missing, a shape is past a limit, or a value
    /// cannot be inferred (the message names the option to pass).</exception>
    public static (SpeechEncoderConfig Config, IReadOnlyList<InferredConfigField> Inferred) InferWithFields(
        IReadOnlyDictionary<string, IReadOnlyList<long>> shapes, CheckpointLoadOptions? options = null,
        string modelType = "wav2vec2", string? filePath = null, string? modelTypeReason = null)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        options ??= CheckpointLoadOptions.Default;
        var inferred = new List<InferredConfigField>();
        HArnessCheckpointException Fail(string what) =>
            new($"Cannot infer the encoder config of checkpoint '{filePath}': {what}", filePath);
        IReadOnlyList<long> Need(string key, int rank)
        {
            if (!shapes.TryGetValue(key, out var s)) throw Fail($"it has no tensor '{key}'.");
            if (s.Count != rank) throw Fail($"'{key}' has shape {CheckpointTensor.FormatShape(s)}, expected {rank} dimensions.");
            return s;
        }
        int Dim(string key, IReadOnlyList<long> shape, int axis, long max, string what)
        {
            var v = shape[axis];
            if (v < 1 || v > max)
                throw Fail($"'{key}' has shape {CheckpointTensor.FormatShape(shape)}: its {what} ({v}) must be in [1, {max}] (EncoderLimits).");
            return (int)v;
        }

        var convIdx = shapes.Keys.Select(k => ConvWeight.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture)).Distinct().OrderBy(i => i).ToArray();
        if (convIdx.Length == 0 || convIdx[^1] != convIdx.Length - 1)
            throw Fail("it has no contiguous feature_extractor.conv_layers.i.conv.weight tensors.");
        if (convIdx.Length > EncoderLimits.MaxConvLayers)
            throw Fail($"it has {convIdx.Length} conv layers; at most {EncoderLimits.MaxConvLayers} are allowed (EncoderLimits).");
        if (options.ConvStrides is { } given && given.Count != convIdx.Length)
            throw new HArnessConfigException($"ConvStrides has {given.Count} entries but checkpoint '{filePath}' has {convIdx.Length} conv layers.", nameof(CheckpointLoadOptions.ConvStrides));
        var conv = new ConvLayerSpec[convIdx.Length];
        for (int i = 0; i < conv.Length; i++)
        {
            var key = $"feature_extractor.conv_layers.{i}.conv.weight";
            var w = Need(key, 3);
            int outCh = Dim(key, w, 0, EncoderLimits.MaxConvChannels, "channel count");
            int kernel = Dim(key, w, 2, EncoderLimits.MaxConvKernel, "kernel");
            int stride;
            if (options.ConvStrides is { } strides) stride = strides[i];
            else
            {
                stride = kernel switch
                {
                    10 => 5,
                    3 or 2 => 2,
                    _ => throw new HArnessCheckpointException(
                        $"Cannot infer the stride of conv layer {i} (kernel {kernel}) from checkpoint '{filePath}'; pass CheckpointLoadOptions.ConvStrides or a config.", filePath),
                };
                inferred.Add(new($"FrontEnd.Layers[{i}].Stride", stride.ToString(CultureInfo.InvariantCulture),
                    $"kernel {kernel} has stride {stride} in the wav2vec2 stack; set CheckpointLoadOptions.ConvStrides otherwise"));
            }
            conv[i] = new ConvLayerSpec(outCh, kernel, stride);
        }
        bool convBias = shapes.ContainsKey("feature_extractor.conv_layers.0.conv.bias");
        var norm = conv.Length > 1 && shapes.ContainsKey("feature_extractor.conv_layers.1.layer_norm.weight")
            ? ConvNormMode.LayerNorm : ConvNormMode.GroupNorm;

        const string projKey = "feature_projection.projection.weight";
        var proj = Need(projKey, 2);
        int dim = Dim(projKey, proj, 0, EncoderLimits.MaxWidth, "width");
        if (proj[1] != conv[^1].Dim)
            throw Fail($"'{projKey}' has shape {CheckpointTensor.FormatShape(proj)}: its input dim must be the last conv layer's {conv[^1].Dim} channels.");
        var layerIdx = shapes.Keys.Select(k => LayerIndex.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max();
        if (layerIdx >= EncoderLimits.MaxLayers)
            throw Fail($"it has a tensor for transformer layer {layerIdx}; at most {EncoderLimits.MaxLayers} layers are allowed (EncoderLimits).");
        int layers = layerIdx + 1;
        const string ffnKey = "encoder.layers.0.feed_forward.intermediate_dense.weight";
        int ffn = layers > 0 ? Dim(ffnKey, Need(ffnKey, 2), 0, EncoderLimits.MaxIntermediateSize, "feed-forward width") : 4 * dim;
        const string posKey = "encoder.pos_conv_embed.conv.weight_v";
        var v = Need(posKey, 3);
        int posKernel = Dim(posKey, v, 2, EncoderLimits.MaxPosConvKernel, "kernel");
        int perGroup = Dim(posKey, v, 1, dim, "channels per group");
        if (dim % perGroup != 0) throw Fail($"'{posKey}' has shape {CheckpointTensor.FormatShape(v)}: {perGroup} channels per group do not divide the width {dim}.");
        int posGroups = dim / perGroup;

        int heads;
        if (options.NumHeads is { } h) heads = h;
        else if (PublishedHeads.TryGetValue(dim, out var published))
        {
            heads = published;
            inferred.Add(new(nameof(SpeechEncoderConfig.NumHeads), heads.ToString(CultureInfo.InvariantCulture),
                $"the published models of width {dim} have {heads} heads; set CheckpointLoadOptions.NumHeads otherwise"));
        }
        else
            throw new HArnessCheckpointException(
                $"Cannot infer the attention heads of checkpoint '{filePath}': it has no config.json and its width {dim} is not a published model's " +
                $"({string.Join(", ", PublishedHeads.Select(p => $"{p.Key} → {p.Value}"))}); pass CheckpointLoadOptions.NumHeads (or CheckpointLoadOptions.Config).", filePath);

        bool layerNormFirst;
        if (options.LayerNormFirst is { } lnf) layerNormFirst = lnf;
        else
        {
            layerNormFirst = norm == ConvNormMode.LayerNorm;
            inferred.Add(new(nameof(SpeechEncoderConfig.LayerNormFirst), layerNormFirst ? "true" : "false",
                $"published checkpoints are pre-LN exactly when the conv stack uses layer norm; set CheckpointLoadOptions.LayerNormFirst otherwise"));
        }
        if (modelTypeReason is not null) inferred.Add(new(nameof(SpeechEncoderConfig.ModelType), modelType, modelTypeReason));
        if (shapes.TryGetValue("masked_spec_embed", out var mse) && (mse.Count != 1 || mse[0] != dim))
            throw Fail($"'masked_spec_embed' has shape {CheckpointTensor.FormatShape(mse)}, expected [{dim}].");

        var defaults = new SpeechEncoderConfig();
        var hasMask = shapes.ContainsKey("masked_spec_embed");
        foreach (var (name, value) in new (string, object)[]
        {
            (nameof(SpeechEncoderConfig.LayerNormEps), defaults.LayerNormEps),
            (nameof(SpeechEncoderConfig.HiddenDropout), defaults.HiddenDropout),
            (nameof(SpeechEncoderConfig.AttentionDropout), defaults.AttentionDropout),
            (nameof(SpeechEncoderConfig.ActivationDropout), defaults.ActivationDropout),
            (nameof(SpeechEncoderConfig.FeatureProjectionDropout), defaults.FeatureProjectionDropout),
            (nameof(SpeechEncoderConfig.LayerDrop), defaults.LayerDrop),
            (nameof(SpeechEncoderConfig.MaskTimeProb), hasMask ? defaults.MaskTimeProb : 0.0),
        })
            inferred.Add(new(name, Convert.ToString(value, CultureInfo.InvariantCulture)!, "not in the weights: the default; pass CheckpointLoadOptions.Config to set it"));

        var config = defaults with
        {
            ModelType = modelType,
            FrontEnd = new CnnFrontEndConfig { Layers = conv, Norm = norm, Bias = convBias },
            HiddenSize = dim,
            NumLayers = layers,
            NumHeads = heads,
            IntermediateSize = ffn,
            LayerNormFirst = layerNormFirst,
            PosConvKernel = posKernel,
            PosConvGroups = posGroups,
            MaskTimeProb = hasMask ? defaults.MaskTimeProb : 0,
        };
        var errors = new ValidationErrors();
        config.Validate(errors);
        if (!errors.IsEmpty)
            throw new HArnessCheckpointException(
                $"The encoder config inferred from checkpoint '{filePath}' is invalid: {string.Join(" ", errors.Errors.Select(e => e.Message))}", filePath);
        // A file justifies a model no bigger than itself: the inferred model may not need (much) more values than the
        // file's tensors hold (slack for a lenient load with a few missing tensors).
        long held = 0;
        foreach (var shape in shapes.Values)
        {
            long n = 1;
            foreach (var d in shape) n = d <= 0 ? 0 : n > long.MaxValue / d ? long.MaxValue : n * d;
            held = held > long.MaxValue - n ? long.MaxValue : held + n;
        }
        var needed = EncoderCost.CountParameters(config);
        if (needed > 2 * Math.Min(held, long.MaxValue / 4) + (1L << 20))
            throw Fail($"its tensors hold {held:N0} values but the config their shapes imply has {needed:N0} parameters; pass CheckpointLoadOptions.Config.");
        return (config, inferred);
    }
}
