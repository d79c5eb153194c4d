using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Students;

/// <summary>
/// DistilHuBERT's prediction heads (s3prl <c>distiller/model.py</c>, <c>out_layer_type: expand-last</c>): the
/// student's last layer <c>[B, T, D]</c> goes through <c>Linear(D → inner·N)</c>, GELU, then a per-head "split"
/// linear <c>inner → out</c> (s3prl's <c>SplitLinear</c>: weight <c>[N, inner, out]</c>, bias per head), giving N
/// predictions <c>[B, T, out]</c>. Parameters: <c>expand.weight [inner·N, D]</c>, <c>expand.bias</c>
/// (s3prl's <c>output_layer.0.*</c>), <c>split_weight [N, inner, out]</c> and <c>split_bias [N, out]</c>
/// (<c>output_layer.2.weight</c>, and <c>output_layer.2.bias</c> reshaped from <c>[1, 1, N, out]</c>).
/// </summary>
public sealed class PredictionHeads : nn.Module<Tensor, IReadOnlyList<Tensor>>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly Linear expand;
    private readonly Parameter split_weight;
    private readonly Parameter split_bias;
#pragma warning restore IDE1006

    /// <summary>Creates the heads; the split linear starts uniform in ±inner^-0.5 as in s3prl.</summary>
    /// <param name="inputDim">D, the student's width.</param>
    /// <param name="count">N, the number of predicted teacher layers.</param>
    /// <param name="innerDim">The per-head inner width (s3prl: D).</param>
    /// <param name="outputDim">The prediction width (the teacher's, or a PCA-compacted k).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public PredictionHeads(int inputDim, int count, int innerDim, int outputDim) : base(nameof(PredictionHeads))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(innerDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDim, 1);
        Runtime.HArnessRuntime.EnsureInitialized();
        Count = count;
        InnerDim = innerDim;
        OutputDim = outputDim;
        expand = nn.Linear(inputDim, (long)innerDim * count);
        var bound = 1.0 / Math.Sqrt(innerDim);
        split_weight = new Parameter(empty(count, innerDim, outputDim).uniform_(-bound, bound));
        split_bias = new Parameter(empty(count, outputDim).uniform_(-bound, bound));
        RegisterComponents();
    }

    /// <summary>N.</summary>
    public int Count { get; }

    /// <summary>The inner width of each head.</summary>
    public int InnerDim { get; }

    /// <summary>The width of every prediction.</summary>
    public int OutputDim { get; }

    /// <summary>Predicts N teacher layers from the student's last layer.</summary>
    /// <param name="hidden"><c>[B, T, D]</c>.</param>
    /// <returns>N tensors <c>[B, T, out]</c>, in the order of the configured teacher layers.</returns>
    public override IReadOnlyList<Tensor> forward(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (hidden.dim() != 3)
            throw new ArgumentException($"Expected the student's last layer [batch, frames, dim], got [{string.Join(", ", hidden.shape)}].", nameof(hidden));
        using var scope = NewDisposeScope();
        long b = hidden.shape[0], t = hidden.shape[1];
        var x = nn.functional.gelu(expand.forward(hidden)).reshape(b, t, Count, InnerDim);
        var y = einsum("btni,nio->btno", x, split_weight).add(split_bias, Scalars.One);
        var outputs = new Tensor[Count];
        for (var i = 0; i < Count; i++) outputs[i] = y.select(2, i).MoveToOuterDisposeScope();
        return outputs;
    }
}
