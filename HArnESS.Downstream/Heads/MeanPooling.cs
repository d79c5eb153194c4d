using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Mean over the valid frames: <c>Σ_t m_t x_t / Σ_t m_t</c>.</summary>
public sealed class MeanPooling : PoolingLayer
{
    /// <summary>Creates the layer (no parameters).</summary>
    /// <param name="inputDim">Feature width.</param>
    public MeanPooling(int inputDim) : base(nameof(MeanPooling), inputDim) => RegisterComponents();

    /// <inheritdoc/>
    public override int OutputDim => InputDim;

    /// <summary>Pools.</summary>
    /// <param name="x"><c>[batch, frames, dim]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; null = all valid.</param>
    /// <returns><c>[batch, dim]</c>.</returns>
    public override Tensor forward(Tensor x, Tensor? paddingMask)
    {
        using var scope = NewDisposeScope();
        var valid = PaddingMasks.ValidWeights(x, paddingMask);
        x = x.masked_fill(valid.eq(Scalars.Of(0)), Scalars.Of(0)); // junk (even NaN) in padded frames never reaches the result
        return ((x * valid).sum(1) / valid.sum(1)).MoveToOuterDisposeScope();
    }
}
