using HArnESS.Export.Onnx;

namespace HArnESS.Export.Graph;

/// <summary>What every per-module exporter needs: the graph, the weights, and how to write Linear layers.</summary>
internal sealed class ExportContext
{
    public ExportContext(OnnxGraphBuilder graph, Weights weights, OnnxQuantization quantization)
    {
        G = graph;
        W = weights;
        Quantization = quantization;
    }

    public OnnxGraphBuilder G { get; }

    public Weights W { get; }

    public OnnxQuantization Quantization { get; }

    /// <summary>Count of Linear layers written int8.</summary>
    public int QuantizedLinears { get; private set; }

    /// <summary><c>x·Wᵀ + b</c> for the Linear under <paramref name="prefix"/> (<c>{prefix}.weight</c> <c>[out, in]</c>,
    /// <c>{prefix}.bias</c>); <paramref name="scale"/> multiplies weight and bias (folds attention's
    /// <c>head_dim^-0.5</c> into q_proj). Int8 when quantising and <paramref name="quantizable"/>.</summary>
    public string Linear(string x, string prefix, float scale = 1f, bool quantizable = true)
    {
        var (w, shape) = W.Get(prefix + ".weight", 2);
        float[]? b = W.Has(prefix + ".bias") ? W.Get(prefix + ".bias", 1).Data : null;
        return Linear(x, prefix, w, (int)shape[0], (int)shape[1], b, scale, quantizable);
    }

    /// <summary>A Linear from explicit values (<paramref name="weight"/> row-major <c>[outDim, inDim]</c>).</summary>
    public string Linear(string x, string name, float[] weight, int outDim, int inDim, float[]? bias, float scale = 1f, bool quantizable = true)
    {
        var wt = new float[inDim * outDim];                                   // [in, out] for MatMul
        for (var o = 0; o < outDim; o++)
            for (var i = 0; i < inDim; i++)
                wt[i * outDim + o] = weight[o * inDim + i] * scale;
        string y;
        if (Quantization == OnnxQuantization.Int8Dynamic && quantizable)
        {
            y = QuantizedMatMul(x, name, wt, inDim, outDim);
            QuantizedLinears++;
        }
        else y = G.MatMul(x, G.Initializer(name + ".weight_t", wt, inDim, outDim));
        if (bias is null) return y;
        var bs = scale == 1f ? bias : bias.Select(v => v * scale).ToArray();
        return G.Add(y, G.Initializer(name + ".bias", bs, outDim));
    }

    // Symmetric per-output-channel int8 weights (zero point 0, scale max|w|/127); activations quantised per tensor at
    // run time to uint8 (DynamicQuantizeLinear); int32 accumulation (MatMulInteger); rescaled by x_scale·w_scale.
    private string QuantizedMatMul(string x, string name, float[] wt, int inDim, int outDim)
    {
        var scales = new float[outDim];
        for (var o = 0; o < outDim; o++)
        {
            var m = 0f;
            for (var i = 0; i < inDim; i++) m = Math.Max(m, Math.Abs(wt[i * outDim + o]));
            scales[o] = m > 0 ? m / 127f : 1f;
        }
        var q = new sbyte[inDim * outDim];
        for (var i = 0; i < inDim; i++)
            for (var o = 0; o < outDim; o++)
                q[i * outDim + o] = (sbyte)Math.Clamp(MathF.Round(wt[i * outDim + o] / scales[o]), -127f, 127f);
        var qx = G.NodeN("DynamicQuantizeLinear", [x], [G.Fresh("xq"), G.Fresh("x_scale"), G.Fresh("x_zp")]);
        var wq = G.Initializer(name + ".weight_q", q, inDim, outDim);
        var acc = G.Node("MatMulInteger", [qx[0], wq, qx[2]], hint: "mmi");
        var s = G.Mul(qx[1], G.Initializer(name + ".weight_scale", scales, outDim));
        return G.Mul(G.Cast(acc, TensorProto.Types.DataType.Float), s);
    }
}
