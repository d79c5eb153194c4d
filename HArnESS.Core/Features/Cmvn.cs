using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Features;

/// <summary>
/// Per-utterance cepstral mean (and optionally variance) normalisation, computed over each utterance's own frames
/// (Kaldi's <c>apply-cmvn</c> with per-utterance statistics). Global normalisation uses <see cref="CmvnStats"/>.
/// </summary>
public static class Cmvn
{
    /// <summary>Default floor on the variance before dividing (avoids blowing up constant columns).</summary>
    public const double DefaultVarianceFloor = 1e-10;

    /// <summary>Normalises one utterance <c>features [frames, dim]</c> by its column means (and standard deviations).</summary>
    /// <exception cref="HArnessConfigException">Not 2-D, or the floor is not positive.</exception>
    public static Tensor Utterance(Tensor features, bool normalizeVariance = false, double varianceFloor = DefaultVarianceFloor)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2)
            throw new HArnessConfigException(
                $"features must be [frames, dim]; got shape [{string.Join(", ", features.shape)}]. Use the overload with lengths for batches.", nameof(features));
        using var scope = NewDisposeScope();
        var (y, _) = Utterance(features.unsqueeze(0), torch.tensor(new[] { features.shape[0] }), normalizeVariance, varianceFloor);
        return y.squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Normalises every utterance of a padded batch <c>features [batch, frames, dim]</c> with <c>lengths [batch]</c>
    /// (in frames) by its own statistics; padded frames stay zero.
    /// </summary>
    /// <returns>The normalised features and, per utterance, the means <c>[batch, dim]</c> that were subtracted.</returns>
    /// <exception cref="HArnessConfigException">Shapes or lengths are inconsistent, or the floor is not positive.</exception>
    public static (Tensor Features, Tensor Means) Utterance(Tensor features, Tensor lengths, bool normalizeVariance = false,
        double varianceFloor = DefaultVarianceFloor)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 3)
            throw new HArnessConfigException($"features must be [batch, frames, dim]; got shape [{string.Join(", ", features.shape)}].", nameof(features));
        if (!(varianceFloor > 0)) throw new HArnessConfigException($"varianceFloor must be > 0, got {varianceFloor}.", nameof(varianceFloor));
        var lens = FeatureBatching.ReadLengths(lengths, features.shape[0], features.shape[1], "frames");
        using var scope = NewDisposeScope();
        var x = FeatureBatching.AsComputeDType(features, nameof(features));
        var valid = FeatureBatching.ValidMask(lens, x.shape[1], x.device);
        var invalid = valid.logical_not().unsqueeze(-1);
        // Statistics in float64, two-pass, so long or loud utterances do not lose precision.
        var x64 = x.to(ScalarType.Float64).masked_fill(invalid, Scalars.Of(0.0));
        var n = torch.tensor(lens.Select(l => (double)Math.Max(l, 1)).ToArray(), device: x.device).view(-1, 1, 1);
        var mean = x64.sum(1, keepdim: true) / n;                                      // [B, 1, D]
        var centred = (x64 - mean).masked_fill(invalid, Scalars.Of(0.0));
        if (normalizeVariance)
        {
            var variance = centred.pow(Scalars.Of(2L)).sum(1, keepdim: true) / n;
            using var floor = varianceFloor.ToScalar();
            centred = centred / variance.clamp_min(floor).sqrt();
        }
        return (centred.to(x.dtype).MoveToOuterDisposeScope(), mean.squeeze(1).to(x.dtype).MoveToOuterDisposeScope());
    }
}
