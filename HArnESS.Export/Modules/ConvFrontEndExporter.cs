using HArnESS.Export.Graph;
using HArnESS.Modules;
using static HArnESS.Export.Graph.OnnxGraphBuilder;

namespace HArnESS.Export.Modules;

/// <summary>The wav2vec2 CNN (<c>feature_extractor.conv_layers.{i}.conv.weight/bias</c>, <c>layer_norm.*</c>):
/// Conv1d (no padding) → GroupNorm(C, C) on layer 0 (= InstanceNormalization) or channel LayerNorm on every layer →
/// GELU; frame lengths follow each layer's kernel and stride.</summary>
internal static class ConvFrontEndExporter
{
    public static (string Features, string Lengths) Write(ExportContext c, string waveforms, string lengths,
        CnnFrontEndConfig config, string prefix)
    {
        var g = c.G;
        var layers = config.Layers;
        var x = g.Unsqueeze(waveforms, 1);                                             // [B, 1, T]
        var l = lengths;
        for (var i = 0; i < layers.Count; i++)
        {
            var p = $"{prefix}.conv_layers.{i}";
            var spec = layers[i];
            var (w, shape) = c.W.Get(p + ".conv.weight", 3);
            var inputs = new List<string> { x, g.Initializer(p + ".conv.weight", w, shape) };
            if (c.W.Has(p + ".conv.bias")) inputs.Add(g.Initializer(p + ".conv.bias", c.W.Get(p + ".conv.bias", 1).Data, shape[0]));
            x = g.Node("Conv", [.. inputs], [Attr("kernel_shape", new long[] { spec.Kernel }), Attr("strides", new long[] { spec.Stride })], "conv");
            if (c.W.Has(p + ".layer_norm.weight"))
            {
                var scale = g.Initializer(p + ".layer_norm.weight", c.W.Get(p + ".layer_norm.weight", 1).Data, shape[0]);
                var bias = g.Initializer(p + ".layer_norm.bias", c.W.Get(p + ".layer_norm.bias", 1).Data, shape[0]);
                x = config.Norm == ConvNormMode.LayerNorm
                    ? g.Transpose(g.LayerNorm(g.Transpose(x, 0, 2, 1), scale, bias, 1e-5), 0, 2, 1)
                    : g.Node("InstanceNormalization", [x, scale, bias], [Attr("epsilon", 1e-5f)], "gn");
            }
            x = g.Gelu(x);
            l = LengthOps.Windowed(g, l, spec.Kernel, spec.Stride);
        }
        return (g.Transpose(x, 0, 2, 1), l);                                          // [B, T', C]
    }
}
