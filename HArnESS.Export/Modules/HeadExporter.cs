using HArnESS.Export.Graph;
using HArnESS.Export.Onnx;
using static HArnESS.Export.Graph.OnnxGraphBuilder;

namespace HArnESS.Export.Modules;

/// <summary>Task heads: per-frame Linear (CTC) or masked mean pooling then Linear (utterance heads). Always float32.</summary>
internal static class HeadExporter
{
    public static string Write(ExportContext c, OnnxHead head, string hidden, string valid, string lengths)
    {
        var g = c.G;
        var x = hidden;
        if (head.Kind != OnnxHeadKind.Ctc)
        {
            var sum = g.Node("ReduceSum", [LengthOps.ZeroPadded(g, hidden, valid), g.Ints(1)], [Attr("keepdims", 0L)], "pool_sum");
            var count = g.Node("Max", [g.Cast(g.Unsqueeze(lengths, 1), TensorProto.Types.DataType.Float), g.Scalar(1f)]);
            x = g.Div(sum, count);                                                             // [B, D]
        }
        if (head.Weight is null) return x;
        var w = Weights.ToArray(head.Weight);
        var b = head.Bias is null ? null : Weights.ToArray(head.Bias);
        return c.Linear(x, "head." + head.ResolvedOutputName, w, (int)head.Weight.shape[0], (int)head.Weight.shape[1], b, quantizable: false);
    }
}
