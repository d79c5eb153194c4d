using HArnESS.Export.Graph;
using HArnESS.Export.Onnx;
using static HArnESS.Export.Graph.OnnxGraphBuilder;

namespace HArnESS.Export.Modules;

/// <summary>In-graph length arithmetic and padding masks (int64).</summary>
internal static class LengthOps
{
    /// <summary>Valid outputs of a window <paramref name="kernel"/> / hop <paramref name="stride"/> over valid inputs
    /// <paramref name="lengths"/> <c>[B]</c>: <c>max(0, floor((n - kernel) / stride) + 1)</c>, written as
    /// <c>max(n - kernel + stride, 0) / stride</c> so the division never sees a negative operand. The same formula is
    /// Kaldi's snip-edges frame count.</summary>
    public static string Windowed(OnnxGraphBuilder g, string lengths, long kernel, long stride)
    {
        var shifted = g.Node("Max", [g.Add(lengths, g.IntScalar(stride - kernel)), g.IntScalar(0)]);
        return g.Div(shifted, g.IntScalar(stride));
    }

    /// <summary><c>floor(n / d)</c> of non-negative lengths.</summary>
    public static string FloorDiv(OnnxGraphBuilder g, string lengths, long d) => g.Div(lengths, g.IntScalar(d));

    /// <summary><c>[B, T]</c> bool, true on valid frames, with <c>T</c> = dim <paramref name="axis"/> of <paramref name="like"/>.</summary>
    public static string ValidMask(OnnxGraphBuilder g, string like, string lengths, long axis = 1)
    {
        var t = g.Node("Squeeze", [g.Dim(like, axis), g.Ints(0)]);
        var range = g.Node("Range", [g.IntScalar(0), t, g.IntScalar(1)]);
        return g.Node("Less", [g.Unsqueeze(range, 0), g.Unsqueeze(lengths, 1)], hint: "valid");
    }

    /// <summary>Zeroes <c>[B, T, D]</c> frames where <paramref name="valid"/> is false (as <c>masked_fill(pad, 0)</c>).</summary>
    public static string ZeroPadded(OnnxGraphBuilder g, string x, string valid) =>
        g.Where(g.Unsqueeze(valid, 2), x, g.Scalar(0f));

    /// <summary>Additive attention key mask <c>[B, 1, 1, T]</c>: 0 on valid keys, <paramref name="maskValue"/> on padding.</summary>
    public static string AttentionMask(OnnxGraphBuilder g, string valid, float maskValue) =>
        g.Where(g.Unsqueeze(valid, 1, 2), g.Scalar(0f), g.Scalar(maskValue));

    /// <summary>fairseq's / <c>SpeechEncoder.NormalizeWaveforms</c>: each row to zero mean and unit variance over
    /// its valid samples (population variance, epsilon 1e-5); padded samples become 0.</summary>
    public static string NormalizeWaveforms(OnnxGraphBuilder g, string waveforms, string lengths)
    {
        var valid = ValidMask(g, waveforms, lengths);
        var zero = g.Scalar(0f);
        var x = g.Where(valid, waveforms, zero);
        var n = g.Node("Max", [g.Cast(g.Unsqueeze(lengths, 1), TensorProto.Types.DataType.Float), g.Scalar(1f)]);
        var mean = g.Div(g.Node("ReduceSum", [x, g.Ints(1)], [Attr("keepdims", 1L)]), n);
        var centred = g.Where(valid, g.Sub(x, mean), zero);
        var variance = g.Div(g.Node("ReduceSum", [g.Mul(centred, centred), g.Ints(1)], [Attr("keepdims", 1L)]), n);
        return g.Div(centred, g.Node("Sqrt", [g.Add(variance, g.Scalar(1e-5f))]));
    }
}
