using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Statistics pooling of the x-vector (Snyder et al. 2018): mean and standard deviation over the valid
/// frames, concatenated: <c>[batch, 2·dim]</c>.</summary>
public sealed class StatisticsPooling : PoolingLayer
{
    /// <summary>Creates the layer (no parameters).</summary>
    /// <param name="inputDim">Feature width.</param>
    public StatisticsPooling(int inputDim) : base(nameof(StatisticsPooling), inputDim) => RegisterComponents();

    /// <inheritdoc/>
    public override int OutputDim => 2 * InputDim;

    /// <summary>Pools.</summary>
    /// <param name="x"><c>[batch, frames, dim]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; null = all valid.</param>
    /// <returns><c>[batch, 2·dim]</c>: mean then standard deviation (biased, floored at 1e-8 variance).</returns>
    public override Tensor forward(Tensor x, Tensor? paddingMask)
    {
        using var scope = NewDisposeScope();
        var valid = PaddingMasks.ValidWeights(x, paddingMask);
        x = x.masked_fill(valid.eq(Scalars.Of(0)), Scalars.Of(0));
        var w = valid / valid.sum(1, keepdim: true);
        var mean = (w * x).sum(1);
        var std = ((w * x * x).sum(1) - mean * mean).clamp_min(Scalars.Of(1e-8)).sqrt();
        return cat([mean, std], -1).MoveToOuterDisposeScope();
    }
}
