using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Batch normalisation over <c>[batch, frames, channels]</c> whose training statistics come from the valid
/// frames only (padded frames neither shift the mean nor the variance), with PyTorch's <c>BatchNorm1d</c> rules
/// otherwise: biased variance to normalise, unbiased variance into the running estimate, momentum 0.1, eps 1e-5,
/// running statistics in eval mode.</summary>
public sealed class MaskedBatchNorm1d : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;
#pragma warning restore IDE1006

    /// <summary>Creates the layer (weight 1, bias 0, running mean 0, running variance 1).</summary>
    /// <param name="channels">Channels.</param>
    /// <param name="momentum">Running-average momentum.</param>
    /// <param name="eps">Added to the variance.</param>
    public MaskedBatchNorm1d(int channels, double momentum = 0.1, double eps = 1e-5) : base(nameof(MaskedBatchNorm1d))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        Momentum = momentum;
        Eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        running_mean = zeros(channels);
        running_var = ones(channels);
        RegisterComponents();
    }

    /// <summary>Running-average momentum.</summary>
    public double Momentum { get; }

    /// <summary>Added to the variance.</summary>
    public double Eps { get; }

    /// <summary>Normalises.</summary>
    /// <param name="x"><c>[batch, frames, channels]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; null = all valid.</param>
    /// <returns>Same shape; padded frames are normalised too (with the valid frames' statistics) but never counted.</returns>
    public override Tensor forward(Tensor x, Tensor? paddingMask)
    {
        using var scope = NewDisposeScope();
        Tensor mean, var;
        if (training)
        {
            var valid = PaddingMasks.ValidWeights(x, paddingMask);
            var n = valid.sum();
            var xs = x.masked_fill(valid.eq(Scalars.Of(0)), Scalars.Of(0));
            mean = xs.sum([0, 1]) / n;
            var centred = (xs - mean) * valid;
            var = (centred * centred).sum([0, 1]) / n;
            using (no_grad())
            {
                var count = n.item<float>();
                using var unbiasFactor = (count / (count - 1)).ToScalar();
                var unbiased = count > 1 ? var.detach().mul(unbiasFactor) : var.detach();
                using var keep = (1 - Momentum).ToScalar();
                using var momentum = Momentum.ToScalar();
                running_mean.mul_(keep).add_(mean.detach().to_type(running_mean.dtype).mul(momentum), Scalars.One);
                running_var.mul_(keep).add_(unbiased.to_type(running_var.dtype).mul(momentum), Scalars.One);
            }
        }
        else
        {
            mean = running_mean.to_type(x.dtype);
            var = running_var.to_type(x.dtype);
        }
        using var epsS = Eps.ToScalar();
        return ((x - mean) / var.add(epsS, Scalars.One).sqrt() * weight).add(bias, Scalars.One).MoveToOuterDisposeScope();
    }
}
