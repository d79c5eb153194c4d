using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>One TDNN layer of an x-vector/ECAPA-style network: a dilated 1-D convolution over time ("same" zero
/// padding, odd kernel), ReLU, padding-aware batch norm. Padded frames are zeroed before the convolution, so a valid
/// frame sees exactly what it would see without the padding (the unpadded input is zero-padded the same way).</summary>
public sealed class TdnnBlock : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> conv;
    private readonly MaskedBatchNorm1d norm;
#pragma warning restore IDE1006

    /// <summary>Creates the block.</summary>
    /// <param name="inputDim">Channels in.</param>
    /// <param name="outputDim">Channels out.</param>
    /// <param name="kernel">Context width in frames, odd.</param>
    /// <param name="dilation">Dilation (frame spacing of the context).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the kernel is even.</exception>
    public TdnnBlock(int inputDim, int outputDim, int kernel, int dilation = 1) : base(nameof(TdnnBlock))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dilation);
        if (kernel <= 0 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Must be odd and positive.");
        conv = nn.Conv1d(inputDim, outputDim, kernel, dilation: dilation, padding: dilation * (kernel - 1) / 2);
        norm = new MaskedBatchNorm1d(outputDim);
        OutputDim = outputDim;
        RegisterComponents();
    }

    /// <summary>Channels out.</summary>
    public int OutputDim { get; }

    /// <summary>Applies the block.</summary>
    /// <param name="x"><c>[batch, frames, inputDim]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; null = all valid.</param>
    /// <returns><c>[batch, frames, outputDim]</c>.</returns>
    public override Tensor forward(Tensor x, Tensor? paddingMask)
    {
        using var scope = NewDisposeScope();
        if (paddingMask is not null) x = x.masked_fill(paddingMask.unsqueeze(-1), Scalars.Of(0));
        var y = conv.forward(x.transpose(1, 2)).transpose(1, 2).relu();
        return norm.forward(y, paddingMask).MoveToOuterDisposeScope();
    }
}
