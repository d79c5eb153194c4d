using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Attentive statistics pooling as in ECAPA-TDNN (Desplanques et al. 2020): channel-wise attention
/// <c>softmax_t(V tanh(W [x_t; μ; σ] + b) + k)</c> over the valid frames, with the utterance's plain mean and
/// standard deviation as global context (optional), then the attention-weighted mean and standard deviation
/// concatenated: <c>[batch, 2·dim]</c>.</summary>
public sealed class AttentiveStatisticsPooling : PoolingLayer
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> attention_hidden;
    private readonly nn.Module<Tensor, Tensor> attention_out;
#pragma warning restore IDE1006

    /// <summary>Creates the layer.</summary>
    /// <param name="inputDim">Feature width.</param>
    /// <param name="attentionDim">Hidden width of the attention (128 in ECAPA-TDNN).</param>
    /// <param name="globalContext">Feed the utterance mean and std to the attention, as ECAPA does.</param>
    public AttentiveStatisticsPooling(int inputDim, int attentionDim = 128, bool globalContext = true)
        : base(nameof(AttentiveStatisticsPooling), inputDim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(attentionDim);
        GlobalContext = globalContext;
        attention_hidden = nn.Linear(globalContext ? 3 * inputDim : inputDim, attentionDim);
        attention_out = nn.Linear(attentionDim, inputDim);
        RegisterComponents();
    }

    /// <summary>Whether the attention sees the utterance mean and std.</summary>
    public bool GlobalContext { get; }

    /// <inheritdoc/>
    public override int OutputDim => 2 * InputDim;

    /// <summary>Pools.</summary>
    /// <param name="x"><c>[batch, frames, dim]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; null = all valid.</param>
    /// <returns><c>[batch, 2·dim]</c>: weighted mean then weighted standard deviation.</returns>
    public override Tensor forward(Tensor x, Tensor? paddingMask)
    {
        using var scope = NewDisposeScope();
        var valid = PaddingMasks.ValidWeights(x, paddingMask);
        x = x.masked_fill(valid.eq(Scalars.Of(0)), Scalars.Of(0)); // junk (even NaN) in padded frames never reaches the result
        var input = x;
        if (GlobalContext)
        {
            var (mu, sd) = Stats(x, valid / valid.sum(1, keepdim: true));
            var t = x.shape[1];
            input = cat([x, mu.unsqueeze(1).expand(-1, t, -1), sd.unsqueeze(1).expand(-1, t, -1)], -1);
        }
        var logits = attention_out.forward(attention_hidden.forward(input).tanh());
        var w = MaskedSoftmax(logits, valid);
        var (mean, std) = Stats(x, w);
        return cat([mean, std], -1).MoveToOuterDisposeScope();
    }

    private static (Tensor Mean, Tensor Std) Stats(Tensor x, Tensor w)
    {
        var mean = (w * x).sum(1);
        var var = ((w * x * x).sum(1) - mean * mean).clamp_min(Scalars.Of(1e-8));
        return (mean, var.sqrt());
    }
}
