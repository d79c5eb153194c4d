using static TorchSharp.torch;

namespace HArnESS.Tests.Initialization;

/// <summary>Random state dicts in HArnESS encoders' HF-style key layout.</summary>
internal static class SyntheticState
{
    public static Dictionary<string, Tensor> Make(int dim, int ffn, int layers, int convDim = 6, int groups = 2, int kernel = 4, int seed = 0, int shift = 0)
    {
        var g = new Generator((ulong)(seed + 1));
        Tensor R(params long[] shape) => randn(shape, generator: g) + shift;
        var s = new Dictionary<string, Tensor>
        {
            ["feature_extractor.conv_layers.0.conv.weight"] = R(convDim, 1, 10),
            ["feature_extractor.conv_layers.0.layer_norm.weight"] = R(convDim),
            ["feature_extractor.conv_layers.0.layer_norm.bias"] = R(convDim),
            ["feature_projection.layer_norm.weight"] = R(convDim),
            ["feature_projection.layer_norm.bias"] = R(convDim),
            ["feature_projection.projection.weight"] = R(dim, convDim),
            ["feature_projection.projection.bias"] = R(dim),
            ["encoder.pos_conv_embed.conv.weight_g"] = R(1, 1, kernel).abs() + 0.5,
            ["encoder.pos_conv_embed.conv.weight_v"] = R(dim, dim / groups, kernel),
            ["encoder.pos_conv_embed.conv.bias"] = R(dim),
            ["encoder.layer_norm.weight"] = R(dim),
            ["encoder.layer_norm.bias"] = R(dim),
            ["masked_spec_embed"] = R(dim),
            ["final_proj.weight"] = R(5, dim),
        };
        for (var i = 0; i < layers; i++)
        {
            var p = $"encoder.layers.{i}.";
            foreach (var a in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                s[p + $"attention.{a}.weight"] = R(dim, dim);
                s[p + $"attention.{a}.bias"] = R(dim);
            }
            s[p + "layer_norm.weight"] = R(dim);
            s[p + "layer_norm.bias"] = R(dim);
            s[p + "feed_forward.intermediate_dense.weight"] = R(ffn, dim);
            s[p + "feed_forward.intermediate_dense.bias"] = R(ffn);
            s[p + "feed_forward.output_dense.weight"] = R(dim, ffn);
            s[p + "feed_forward.output_dense.bias"] = R(dim);
            s[p + "final_layer_norm.weight"] = R(dim);
            s[p + "final_layer_norm.bias"] = R(dim);
        }
        return s;
    }

    public static void Free(IReadOnlyDictionary<string, Tensor> s)
    {
        foreach (var t in s.Values) t.Dispose();
    }
}
