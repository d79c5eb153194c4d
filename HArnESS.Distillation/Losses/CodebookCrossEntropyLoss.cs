using HArnESS.Modules;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Losses;

/// <summary>The discriminative loss for teachers without a codebook: hard k-means labels of the teacher (from the
/// targets pipeline) as classes, the student's last layer through a projection and a learned codebook, cosine
/// logits / τ, cross-entropy averaged over the valid frames, times <see cref="DiscriminativeLossOptions.Weight"/>.
/// A <see cref="MaskedPredictionHead"/> (<c>final_proj</c> + learned <c>label_embs_concat</c>) is exactly that
/// projection and codebook.</summary>
public sealed class CodebookCrossEntropyLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="options">τ (used by the projected-states overload) and weight; <c>null</c> = defaults.</param>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public CodebookCrossEntropyLoss(DiscriminativeLossOptions? options = null)
    {
        Options = options ?? new DiscriminativeLossOptions();
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public DiscriminativeLossOptions Options { get; }

    /// <summary>Cross-entropy of ready logits against the labels.</summary>
    /// <param name="logits"><c>[batch, frames, classes]</c>.</param>
    /// <param name="labels"><c>[batch, frames]</c> integer unit labels at the logits' frame rate; values at padded
    /// frames are ignored, values at valid frames lie in <c>[0, classes)</c>.</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool; <c>null</c> = all.</param>
    /// <returns>Term <c>ce</c>; <see cref="LossTerms.Total"/> = Weight · ce.</returns>
    /// <exception cref="ArgumentException">The label length does not match the frames, shapes are wrong, or no frame
    /// is valid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label at a valid frame is not a code of the codebook.</exception>
    public LossTerms Compute(Tensor logits, Tensor labels, Tensor? validFrames = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() != 3)
            throw new ArgumentException($"Logits must be [batch, frames, classes], got {FrameMasks.Shape(logits)}.", nameof(logits));
        FrameMasks.CheckLabels(labels, logits.shape[0], logits.shape[1], nameof(labels));
        Tensor ce, total;
        using (var scope = NewDisposeScope())
        {
            var valid = FrameMasks.Resolve(validFrames, logits.shape[0], logits.shape[1], logits.device, nameof(validFrames));
            var count = valid.sum().item<long>();
            if (count == 0) throw new ArgumentException("No frame is valid: the loss would divide by zero.", nameof(validFrames));
            var lab = labels.to(ScalarType.Int64, logits.device);
            FrameMasks.CheckLabelRange(lab, valid, logits.shape[2], nameof(labels));
            var safe = where(valid, lab, zeros(1, dtype: ScalarType.Int64, device: logits.device));
            var perFrame = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), safe.reshape(-1), reduction: nn.Reduction.None)
                .reshape(logits.shape[0], logits.shape[1]);
            using var countS = ((double)count).ToScalar();
            using var weight = Options.Weight.ToScalar();
            ce = (where(valid, perFrame, zeros(1, dtype: perFrame.dtype, device: logits.device)).sum().div(countS)).MoveToOuterDisposeScope();
            total = ce.mul(weight).MoveToOuterDisposeScope();
        }
        return new LossTerms(total, [new("ce", ce)]);
    }

    /// <summary>Cross-entropy of projected states against a (learned) codebook with cosine logits / τ.</summary>
    /// <param name="studentProjected"><c>[batch, frames, finalDim]</c>: the student's last layer through its projection.</param>
    /// <param name="codebook"><c>[classes, finalDim]</c>, typically a trainable parameter.</param>
    /// <param name="labels"><c>[batch, frames]</c> integer labels.</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool; <c>null</c> = all.</param>
    /// <returns>As <see cref="Compute(Tensor, Tensor, Tensor?)"/>.</returns>
    /// <exception cref="ArgumentException">Shapes do not match, the label length does not match the frames, or no frame is valid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label at a valid frame is not a code of the codebook.</exception>
    public LossTerms Compute(Tensor studentProjected, Tensor codebook, Tensor labels, Tensor? validFrames)
    {
        using var logits = CodebookLogits.Compute(studentProjected, codebook, Options.Temperature);
        return Compute(logits, labels, validFrames);
    }

    /// <summary>Cross-entropy through a masked-prediction head (its projection, codebook and temperature).</summary>
    /// <param name="head">The student's head; its <see cref="MaskedPredictionHead.LogitTemperature"/> applies.</param>
    /// <param name="studentLast"><c>[batch, frames, dim]</c>.</param>
    /// <param name="labels"><c>[batch, frames]</c> integer labels.</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool; <c>null</c> = all.</param>
    /// <returns>As <see cref="Compute(Tensor, Tensor, Tensor?)"/>.</returns>
    /// <exception cref="ArgumentException">The label length does not match the frames, or no frame is valid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label at a valid frame is not a code of the codebook.</exception>
    public LossTerms Compute(MaskedPredictionHead head, Tensor studentLast, Tensor labels, Tensor? validFrames = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        using var logits = head.forward(studentLast);
        return Compute(logits, labels, validFrames);
    }
}
