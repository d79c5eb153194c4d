using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>wav2vec2's relative positional embedding: a weight-normalised grouped convolution over time
/// (<c>conv.{weight_g,weight_v,bias}</c>, padding <c>kernel / 2</c>), "SamePad" (drop the last frame for an even
/// kernel), then GELU. The caller adds the result to its input.</summary>
public sealed class ConvolutionalPositionalEmbedding : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly WeightNormConv1d conv;
#pragma warning restore IDE1006
    private readonly int _numRemove;

    /// <summary>Creates the embedding.</summary>
    /// <param name="embedDim">Model width.</param>
    /// <param name="kernelSize">Kernel width (128 in every published model).</param>
    /// <param name="groups">Channel groups (16 in every published model); must divide <paramref name="embedDim"/>.</param>
    /// <exception cref="HArnessConfigException">A value is non-positive or <paramref name="groups"/> does not divide <paramref name="embedDim"/>.</exception>
    public ConvolutionalPositionalEmbedding(int embedDim, int kernelSize, int groups) : base(nameof(ConvolutionalPositionalEmbedding))
    {
        if (kernelSize <= 0) throw new HArnessConfigException($"Positional conv kernel must be positive, got {kernelSize}.", "PosConvKernel");
        if (groups <= 0 || embedDim % groups != 0)
            throw new HArnessConfigException($"Positional conv groups ({groups}) must be positive and divide the model dim ({embedDim}).", "PosConvGroups");
        EmbedDim = embedDim;
        conv = new WeightNormConv1d(embedDim, kernelSize, groups, kernelSize / 2);
        _numRemove = kernelSize % 2 == 0 ? 1 : 0;
        RegisterComponents();
    }

    /// <summary>Model width.</summary>
    public int EmbedDim { get; }

    /// <summary>Computes the positional term.</summary>
    /// <param name="input"><c>[batch, frames, dim]</c>.</param>
    /// <returns><c>[batch, frames, dim]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv.forward(input.transpose(-2, -1));
        if (_numRemove > 0) x = x.narrow(2, 0, x.shape[2] - _numRemove);
        return nn.functional.gelu(x).transpose(-2, -1).MoveToOuterDisposeScope();
    }
}
