using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Self-attention pooling (Safari et al. 2020; s3prl's <c>SelfAttentionPooling</c>): one score per frame
/// <c>w·x_t</c>, softmax over the valid frames, weighted mean.</summary>
public sealed class SelfAttentionPooling : PoolingLayer
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> W;
#pragma warning restore IDE1006

    /// <summary>Creates the layer.</summary>
    /// <param name="inputDim">Feature width.</param>
    public SelfAttentionPooling(int inputDim) : base(nameof(SelfAttentionPooling), inputDim)
    {
        W = nn.Linear(inputDim, 1);
        RegisterComponents();
    }

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
        var w = MaskedSoftmax(W.forward(x), valid);
        return (w * x).sum(1).MoveToOuterDisposeScope();
    }
}
