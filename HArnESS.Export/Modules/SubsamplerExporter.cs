using HArnESS.Export.Graph;
using HArnESS.Modules;
using static HArnESS.Export.Graph.OnnxGraphBuilder;

namespace HArnESS.Export.Modules;

/// <summary><c>subsample.conv_layers.{i}.{weight,bias}</c> (fairseq's <c>Conv1dSubsampler</c>): per layer, padded
/// frames zeroed, Conv1d (stride 2, padding <c>k/2</c>), GLU over channels (<c>a·σ(b)</c>); lengths
/// <c>floor((n - 1) / 2 + 1)</c>, written <c>(n + 1) / 2</c> (0 stays 0).</summary>
internal static class SubsamplerExporter
{
    public static (string Features, string Lengths) Write(ExportContext c, string features, string lengths, Conv1dSubsamplerConfig config, string prefix)
    {
        var g = c.G;
        var x = g.Transpose(features, 0, 2, 1);                                          // [B, D, T]
        var l = lengths;
        for (var i = 0; i < config.KernelSizes.Count; i++)
        {
            var k = config.KernelSizes[i];
            var p = $"{prefix}.conv_layers.{i}";
            var (w, shape) = c.W.Get(p + ".weight", 3);
            var valid = LengthOps.ValidMask(g, x, l, axis: 2);
            x = g.Where(g.Unsqueeze(valid, 1), x, g.Scalar(0f));
            x = g.Node("Conv", [x, g.Initializer(p + ".weight", w, shape), g.Initializer(p + ".bias", c.W.Get(p + ".bias", 1).Data, shape[0])],
                [Attr("kernel_shape", new long[] { k }), Attr("strides", new long[] { 2 }), Attr("pads", new long[] { k / 2, k / 2 })], "subsample_conv");
            var half = shape[0] / 2;
            var a = g.Node("Slice", [x, g.Ints(0), g.Ints(half), g.Ints(1)], hint: "glu_a");
            var b = g.Node("Slice", [x, g.Ints(half), g.Ints(shape[0]), g.Ints(1)], hint: "glu_b");
            x = g.Mul(a, g.Node("Sigmoid", [b]));
            l = g.Div(g.Add(l, g.IntScalar(1)), g.IntScalar(2));
        }
        return (g.Transpose(x, 0, 2, 1), l);
    }
}
