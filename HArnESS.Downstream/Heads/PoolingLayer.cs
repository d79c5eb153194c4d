using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Pools frame features <c>[batch, frames, dim]</c> into one vector per utterance, never counting padded
/// frames: the result for an utterance is the same whether or not the batch pads it.</summary>
public abstract class PoolingLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="inputDim">Feature width.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputDim"/> is not positive.</exception>
    protected PoolingLayer(string name, int inputDim) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDim);
        InputDim = inputDim;
    }

    /// <summary>Feature width in.</summary>
    public int InputDim { get; }

    /// <summary>Width of the pooled vector.</summary>
    public abstract int OutputDim { get; }

    /// <summary>Builds the pooling a <see cref="PoolingKind"/> names.</summary>
    /// <param name="kind">Which pooling.</param>
    /// <param name="inputDim">Feature width.</param>
    /// <param name="attentionDim">Hidden width of the attention (attentive statistics pooling only).</param>
    public static PoolingLayer Create(PoolingKind kind, int inputDim, int attentionDim = 128) => kind switch
    {
        PoolingKind.Mean => new MeanPooling(inputDim),
        PoolingKind.Statistics => new StatisticsPooling(inputDim),
        PoolingKind.SelfAttention => new SelfAttentionPooling(inputDim),
        PoolingKind.AttentiveStatistics => new AttentiveStatisticsPooling(inputDim, attentionDim),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown pooling."),
    };

    /// <summary>Softmax over frames with padded frames excluded (their weight is exactly 0).</summary>
    /// <param name="logits"><c>[batch, frames, k]</c>.</param>
    /// <param name="valid"><c>[batch, frames, 1]</c> 1 = valid.</param>
    protected static Tensor MaskedSoftmax(Tensor logits, Tensor valid)
    {
        using var scope = NewDisposeScope();
        var masked = logits.masked_fill(valid.eq(Scalars.Of(0)), Scalars.Of(float.NegativeInfinity));
        return masked.softmax(1).MoveToOuterDisposeScope();
    }
}
