using static TorchSharp.torch;

namespace HArnESS.Distillation.Losses;

/// <summary>Masked-prediction accuracy: the share of masked valid frames whose argmax logit is the label (fairseq's
/// <c>correct_m / count_m</c>; optionally of the unmasked valid frames). Chance is about <c>1 / classes</c> for balanced units.</summary>
/// <param name="Correct">Masked valid frames predicted right.</param>
/// <param name="Count">Masked valid frames.</param>
public sealed record MaskedPredictionAccuracy(long Correct, long Count)
{
    /// <summary><see cref="Correct"/> / <see cref="Count"/>, or NaN when no frame was masked.</summary>
    public double Value => Count == 0 ? double.NaN : (double)Correct / Count;

    /// <summary>Adds the counts of two batches (for an accuracy over a whole held-out set).</summary>
    /// <param name="a">One batch's counts.</param>
    /// <param name="b">Another batch's counts.</param>
    /// <returns>The summed counts.</returns>
    public static MaskedPredictionAccuracy operator +(MaskedPredictionAccuracy a, MaskedPredictionAccuracy b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return new(a.Correct + b.Correct, a.Count + b.Count);
    }

    /// <summary>Counts the right predictions among the masked valid frames of a batch.</summary>
    /// <param name="logits"><c>[batch, frames, classes]</c>.</param>
    /// <param name="labels"><c>[batch, frames]</c> integer labels.</param>
    /// <param name="mask"><c>[batch, frames]</c> bool, <c>true</c> = masked.</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool; <c>null</c> = all.</param>
    /// <param name="unmasked">Count the unmasked valid frames instead (fairseq's <c>correct_u / count_u</c>).</param>
    /// <returns>The counts.</returns>
    /// <exception cref="ArgumentException">The label length does not match the frames, or a shape is wrong.</exception>
    public static MaskedPredictionAccuracy Compute(Tensor logits, Tensor labels, Tensor mask, Tensor? validFrames = null, bool unmasked = false)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(mask);
        if (logits.dim() != 3)
            throw new ArgumentException($"Logits must be [batch, frames, classes], got {FrameMasks.Shape(logits)}.", nameof(logits));
        var (b, t) = (logits.shape[0], logits.shape[1]);
        FrameMasks.CheckLabels(labels, b, t, nameof(labels));
        if (mask.dtype != ScalarType.Bool || mask.dim() != 2 || mask.shape[0] != b || mask.shape[1] != t)
            throw new ArgumentException($"The mask must be bool [{b}, {t}], got {mask.dtype} {FrameMasks.Shape(mask)}.", nameof(mask));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var valid = FrameMasks.Resolve(validFrames, b, t, logits.device, nameof(validFrames));
        var chosen = mask.to(logits.device);
        var m = valid.logical_and(unmasked ? chosen.logical_not() : chosen);
        var hit = logits.argmax(-1).eq(labels.to(ScalarType.Int64, logits.device)).logical_and(m);
        return new(hit.sum().item<long>(), m.sum().item<long>());
    }
}
