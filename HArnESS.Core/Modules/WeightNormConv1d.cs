using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>A grouped <c>Conv1d</c> whose weight is weight-normalised over dim 2, as
/// <c>torch.nn.utils.weight_norm(conv, dim=2)</c>: parameters <c>weight_g</c> <c>[1, 1, kernel]</c>,
/// <c>weight_v</c> <c>[out, in / groups, kernel]</c> and <c>bias</c> <c>[out]</c>; the weight used is
/// <c>g * v / ‖v‖</c> with the norm taken over dims 0 and 1 for each kernel tap. TorchSharp has no weight_norm,
/// so the weight is recomputed in every forward (gradients reach g and v as in PyTorch).</summary>
public sealed class WeightNormConv1d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly Parameter weight_g;
    private readonly Parameter weight_v;
    private readonly Parameter bias;
#pragma warning restore IDE1006

    /// <summary>Creates the convolution. <c>v</c> is drawn from N(0, std) with fairseq's
    /// <c>std = sqrt(4 / (kernel * channels))</c>, <c>g = ‖v‖</c> (so the initial weight is v) and the bias is 0.</summary>
    /// <param name="channels">Input and output channels.</param>
    /// <param name="kernelSize">Kernel width.</param>
    /// <param name="groups">Channel groups; must divide <paramref name="channels"/>.</param>
    /// <param name="padding">Zero padding on both sides.</param>
    public WeightNormConv1d(int channels, int kernelSize, int groups, int padding) : base(nameof(WeightNormConv1d))
    {
        Channels = channels;
        KernelSize = kernelSize;
        Groups = groups;
        Padding = padding;
        var std = Math.Sqrt(4.0 / (kernelSize * (double)channels));
        using (no_grad())
        {
            // torch.normal(0.0, std, shape) as TorchSharp computes it (randn, mul_, add_), with rooted Scalars.
            using var stdS = std.ToScalar();
            var v = randn([channels, channels / groups, kernelSize]).mul_(stdS).add_(Scalars.Of(0.0), Scalars.One);
            var g = NormOverDims01(v);
            // Parameter takes over the tensor's handle, so g is computed first.
            weight_v = new Parameter(v);
            weight_g = new Parameter(g);
            bias = new Parameter(zeros(channels));
        }
        RegisterComponents();
    }

    /// <summary>Input and output channels.</summary>
    public int Channels { get; }

    /// <summary>Kernel width.</summary>
    public int KernelSize { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>The effective weight <c>g * v / ‖v‖</c>, <c>[out, in / groups, kernel]</c>.</summary>
    public Tensor ComputeWeight()
    {
        using var scope = NewDisposeScope();
        return (weight_v * (weight_g / NormOverDims01(weight_v))).MoveToOuterDisposeScope();
    }

    /// <summary>Convolves.</summary>
    /// <param name="input"><c>[batch, channels, frames]</c>.</param>
    /// <returns><c>[batch, channels, frames + 2 * padding - kernel + 1]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var w = ComputeWeight();
        return nn.functional.conv1d(input, w, bias, stride: 1, padding: Padding, dilation: 1, groups: Groups);
    }

    // torch's _weight_norm(v, g, dim=2): the 2-norm over every dim except 2, kept as [1, 1, K].
    private static Tensor NormOverDims01(Tensor v)
    {
        using var sq = v.pow(Scalars.Of(2L));
        using var s = sq.sum([0L, 1L], keepdim: true);
        return s.sqrt();
    }
}
