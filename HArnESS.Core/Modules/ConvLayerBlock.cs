using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>One convolution unit of the waveform front-end: <c>Conv1d → (GroupNorm | ChannelLayerNorm)? → GELU</c>
/// (torchaudio's <c>ConvLayerBlock</c>). Parameters: <c>conv.weight</c> <c>[out, in, kernel]</c>, optional
/// <c>conv.bias</c>, optional <c>layer_norm.{weight,bias}</c>.</summary>
public sealed class ConvLayerBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> conv;
    private readonly nn.Module<Tensor, Tensor>? layer_norm;
#pragma warning restore IDE1006

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="spec">Output channels, kernel and stride.</param>
    /// <param name="bias">Whether the convolution has a bias.</param>
    /// <param name="norm">The normalisation module (<see cref="nn.GroupNorm"/> or <see cref="ChannelLayerNorm"/>), or null.</param>
    public ConvLayerBlock(int inChannels, ConvLayerSpec spec, bool bias, nn.Module<Tensor, Tensor>? norm)
        : base(nameof(ConvLayerBlock))
    {
        Spec = spec;
        conv = nn.Conv1d(inChannels, spec.Dim, spec.Kernel, stride: spec.Stride, bias: bias);
        layer_norm = norm;
        RegisterComponents();
    }

    /// <summary>Shape of this convolution.</summary>
    public ConvLayerSpec Spec { get; }

    /// <summary>Applies the block.</summary>
    /// <param name="input"><c>[batch, in_channels, frames]</c>.</param>
    /// <returns><c>[batch, out_channels, out_frames]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv.forward(input);
        if (layer_norm is not null) x = layer_norm.forward(x);
        return nn.functional.gelu(x).MoveToOuterDisposeScope();
    }

    /// <summary>Valid output lengths for valid input lengths, by <see cref="ConvLayerSpec.OutputFrames"/>:
    /// <c>max(0, floor((n - kernel) / stride) + 1)</c>.</summary>
    /// <param name="lengths"><c>[batch]</c> int64.</param>
    /// <returns><c>[batch]</c> int64 on the input's device.</returns>
    public Tensor OutputLengths(Tensor lengths)
    {
        using var cpu = lengths.to(ScalarType.Int64, CPU);
        return tensor(cpu.data<long>().Select(Spec.OutputFrames).ToArray(), device: lengths.device);
    }
}
