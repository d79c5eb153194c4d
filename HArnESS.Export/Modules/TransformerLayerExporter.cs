using HArnESS.Export.Graph;
using static HArnESS.Export.Graph.OnnxGraphBuilder;

namespace HArnESS.Export.Modules;

/// <summary><c>encoder.layers.{i}</c>: self-attention (<c>attention.{q,k,v,out}_proj</c>, queries scaled by
/// <c>head_dim^-0.5</c>, folded into q_proj), <c>layer_norm</c>, <c>feed_forward.{intermediate,output}_dense</c> with
/// exact GELU, <c>final_layer_norm</c>; post-LN or pre-LN wiring.</summary>
internal static class TransformerLayerExporter
{
    public static string Write(ExportContext c, string x, string attentionMask, int dim, int heads, bool preLn, double eps, string prefix)
    {
        var g = c.G;
        string Norm(string input, string name) => g.LayerNorm(input,
            g.Initializer($"{prefix}.{name}.weight", c.W.Get($"{prefix}.{name}.weight", 1).Data, dim),
            g.Initializer($"{prefix}.{name}.bias", c.W.Get($"{prefix}.{name}.bias", 1).Data, dim), eps);
        if (preLn)
        {
            var y = g.Add(x, Attention(c, Norm(x, "layer_norm"), attentionMask, dim, heads, prefix + ".attention"));
            return g.Add(y, FeedForward(c, Norm(y, "final_layer_norm"), prefix + ".feed_forward"));
        }
        var h = Norm(g.Add(x, Attention(c, x, attentionMask, dim, heads, prefix + ".attention")), "layer_norm");
        return Norm(g.Add(h, FeedForward(c, h, prefix + ".feed_forward")), "final_layer_norm");
    }

    private static string Attention(ExportContext c, string x, string mask, int dim, int heads, string prefix)
    {
        var g = c.G;
        var headDim = dim / heads;
        string Heads(string t) => g.Transpose(g.Reshape(t, 0, 0, heads, headDim), 0, 2, 1, 3);   // [B, H, T, Dh]
        var q = Heads(c.Linear(x, prefix + ".q_proj", (float)(1.0 / Math.Sqrt(headDim))));
        var k = g.Transpose(g.Reshape(c.Linear(x, prefix + ".k_proj"), 0, 0, heads, headDim), 0, 2, 3, 1); // [B, H, Dh, T]
        var v = Heads(c.Linear(x, prefix + ".v_proj"));
        var scores = g.Add(g.MatMul(q, k), mask);
        var p = g.Node("Softmax", [scores], [Attr("axis", -1L)], "attn");
        var o = g.Reshape(g.Transpose(g.MatMul(p, v), 0, 2, 1, 3), 0, 0, dim);
        return c.Linear(o, prefix + ".out_proj");
    }

    private static string FeedForward(ExportContext c, string x, string prefix) =>
        c.Linear(c.G.Gelu(c.Linear(x, prefix + ".intermediate_dense")), prefix + ".output_dense");
}
