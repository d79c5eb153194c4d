using HArnESS.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Heads;

/// <summary>Padding-aware 1-D convolutions over time for a frame-level head: each block zeroes the padded frames,
/// applies a same-padded convolution of <c>kernel</c> frames (computed as one matrix product over the unfolded
/// window, <c>Linear(inputDim·kernel, channels)</c>, which is several times faster than libtorch's CPU
/// <c>conv1d</c> backward at these sizes), GELU, a layer norm over the channels and dropout, and adds its input back
/// when the widths match. A valid frame never reads a padded frame's content (padding is zero before
/// every convolution), so a batch gives the same valid-frame outputs as each utterance alone.</summary>
public sealed class TemporalConvStack : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> convs;
    private readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> norms;
    private readonly nn.Module<Tensor, Tensor> dropout;
#pragma warning restore IDE1006

    /// <summary>Creates the stack.</summary>
    /// <param name="inputDim">Input width.</param>
    /// <param name="layers">Blocks, ≥ 1.</param>
    /// <param name="channels">Channels of every block.</param>
    /// <param name="kernel">Odd kernel size in frames.</param>
    /// <param name="dropoutRate">Dropout after every block, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the kernel is even, or dropout is outside [0, 1).</exception>
    public TemporalConvStack(int inputDim, int layers, int channels, int kernel, double dropoutRate = 0.0) : base(nameof(TemporalConvStack))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Must be odd and ≥ 1.");
        if (dropoutRate is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropoutRate), dropoutRate, "Must be in [0, 1).");
        convs = new TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>>();
        norms = new TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>>();
        for (var i = 0; i < layers; i++)
        {
            convs.Add(nn.Linear((i == 0 ? inputDim : channels) * (long)kernel, channels));
            norms.Add(nn.LayerNorm(channels));
        }
        dropout = nn.Dropout(dropoutRate);
        InputDim = inputDim;
        Kernel = kernel;
        OutputDim = channels;
        RegisterComponents();
    }

    /// <summary>Input width.</summary>
    public int InputDim { get; }

    /// <summary>Kernel size in frames.</summary>
    public int Kernel { get; }

    /// <summary>Output width (the channels).</summary>
    public int OutputDim { get; }

    /// <summary>Runs the blocks.</summary>
    /// <param name="features"><c>[batch, frames, inputDim]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; null = no padding.</param>
    /// <returns><c>[batch, frames, channels]</c>; padded frames hold junk the caller masks.</returns>
    /// <exception cref="ArgumentException">The features are not <c>[batch, frames, inputDim]</c>.</exception>
    public override Tensor forward(Tensor features, Tensor? paddingMask)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 3 || features.shape[2] != InputDim)
            throw new ArgumentException($"Expected [batch, frames, {InputDim}], got [{string.Join(", ", features.shape)}].", nameof(features));
        using var scope = NewDisposeScope();
        var pad = paddingMask?.unsqueeze(-1);
        var x = features;
        for (var i = 0; i < convs.Count; i++)
        {
            var input = pad is null ? x : x.masked_fill(pad, Scalars.Of(0.0));
            // [batch, frames, dim] → zero-pad the time axis → windows [batch, frames, dim, kernel] → [batch, frames, dim·kernel].
            var half = Kernel / 2;
            var windows = nn.functional.pad(input, [0, 0, half, half]).unfold(1, Kernel, 1);
            var y = convs[i].forward(windows.reshape(windows.shape[0], windows.shape[1], -1));
            y = dropout.forward(norms[i].forward(nn.functional.gelu(y)));
            x = y.shape[2] == x.shape[2] ? x.add(y, Scalars.One) : y;
        }
        return x.MoveToOuterDisposeScope();
    }
}
