using HArnESS.Export.Graph;
using static HArnESS.Export.Graph.OnnxGraphBuilder;

namespace HArnESS.Export.Modules;

/// <summary><c>encoder.pos_conv_embed.conv.{weight_g,weight_v,bias}</c>: the weight norm is folded at export
/// (<c>w = g·v/‖v‖</c>, norm over dims 0 and 1 per kernel tap, computed in double), then a grouped Conv1d with padding
/// <c>kernel/2</c>, the last frame dropped for an even kernel, GELU. Returns the positional term <c>[B, T, D]</c>.</summary>
internal static class PositionalConvExporter
{
    public static string Write(ExportContext c, string x, int kernel, int groups, string prefix = "encoder.pos_conv_embed.conv")
    {
        var g = c.G;
        var (v, vShape) = c.W.Get(prefix + ".weight_v", 3);
        var (gain, _) = c.W.Get(prefix + ".weight_g", 3);
        long o = vShape[0], i = vShape[1], k = vShape[2];
        if (k != kernel)
            throw new HArnessCheckpointException($"Tensor '{prefix}.weight_v' has kernel {k}; the config says PosConvKernel {kernel}.");
        var w = new float[v.Length];
        for (var t = 0; t < k; t++)
        {
            double sq = 0;
            for (var a = 0; a < o * i; a++) sq += (double)v[a * k + t] * v[a * k + t];
            var factor = gain[t] / Math.Sqrt(sq);
            for (var a = 0; a < o * i; a++) w[a * k + t] = (float)(v[a * k + t] * factor);
        }
        var weight = g.Initializer(prefix + ".weight", w, vShape);
        var bias = g.Initializer(prefix + ".bias", c.W.Get(prefix + ".bias", 1).Data, o);
        var y = g.Node("Conv", [g.Transpose(x, 0, 2, 1), weight, bias],
            [Attr("kernel_shape", new long[] { kernel }), Attr("pads", new long[] { kernel / 2, kernel / 2 }), Attr("group", (long)groups)], "pos_conv");
        if (kernel % 2 == 0) y = g.Node("Slice", [y, g.Ints(0), g.Ints(-1), g.Ints(2)], hint: "same_pad");
        return g.Transpose(g.Gelu(y), 0, 2, 1);
    }
}
