using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Losses;

/// <summary>Wang et al. (ASRU 2023)'s discriminative distillation loss. The target is the teacher's code
/// distribution <c>p = softmax(cos(final_proj_t(h_t), E) / τ)</c> over its frozen codebook <c>E</c>
/// (<see cref="TeacherCodebook"/>); the student's last layer goes through its own projection to the same space,
/// <c>q = softmax(cos(proj_s(h_s), E) / τ)</c>; the loss is <c>KL(p ‖ q) = Σ_k p_k (log p_k − log q_k)</c> per
/// valid frame, averaged over the valid frames, times <see cref="DiscriminativeLossOptions.Weight"/>. The teacher
/// side is computed without gradient.</summary>
public sealed class DiscriminativeLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="options">τ and weight; <c>null</c> = defaults (0.1, 1).</param>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public DiscriminativeLoss(DiscriminativeLossOptions? options = null)
    {
        Options = options ?? new DiscriminativeLossOptions();
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public DiscriminativeLossOptions Options { get; }

    /// <summary>Computes the loss from the student's projected last layer.</summary>
    /// <param name="teacherLast">The teacher's last layer <c>[batch, frames, teacherDim]</c>.</param>
    /// <param name="studentProjected">The student's last layer through its own projection, <c>[batch, frames, finalDim]</c>.</param>
    /// <param name="codebook">The teacher's code space.</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool (<see cref="FrameMasks.FromLengths"/>); <c>null</c> = all.</param>
    /// <returns>Term <c>kl</c> (unweighted mean KL per valid frame); <see cref="LossTerms.Total"/> = Weight · kl.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="codebook"/> is null (a teacher without a codebook:
    /// see <see cref="TeacherCodebook.FromStateDict"/>).</exception>
    /// <exception cref="ArgumentException">Shapes do not match, the mask is mis-shaped, or no frame is valid.</exception>
    public LossTerms Compute(Tensor teacherLast, Tensor studentProjected, TeacherCodebook codebook, Tensor? validFrames = null)
    {
        ArgumentNullException.ThrowIfNull(teacherLast);
        ArgumentNullException.ThrowIfNull(studentProjected);
        ArgumentNullException.ThrowIfNull(codebook, nameof(codebook));
        if (teacherLast.dim() != 3)
            throw new ArgumentException($"The teacher's last layer must be [batch, frames, dim], got {FrameMasks.Shape(teacherLast)}.", nameof(teacherLast));
        if (studentProjected.dim() != 3 || studentProjected.shape[0] != teacherLast.shape[0] || studentProjected.shape[1] != teacherLast.shape[1])
            throw new ArgumentException(
                $"The student's projected layer must be [{teacherLast.shape[0]}, {teacherLast.shape[1]}, {codebook.FinalDim}] " +
                $"(the teacher's batch and frames), got {FrameMasks.Shape(studentProjected)}.", nameof(studentProjected));
        if (studentProjected.shape[2] != codebook.FinalDim)
            throw new ArgumentException(
                $"The student's projection must map to the codebook's {codebook.FinalDim} features, got {studentProjected.shape[2]}.", nameof(studentProjected));
        Tensor total, kl;
        using (var scope = NewDisposeScope())
        {
            var valid = FrameMasks.Resolve(validFrames, teacherLast.shape[0], teacherLast.shape[1], studentProjected.device, nameof(validFrames));
            var count = valid.sum().item<long>();
            if (count == 0) throw new ArgumentException("No frame is valid: the loss would divide by zero.", nameof(validFrames));
            var dtype = studentProjected.dtype;
            var cb = codebook.Codebook.to(dtype, studentProjected.device);
            Tensor logP, p;
            using (no_grad())
            {
                var tl = where(valid.unsqueeze(-1), teacherLast.to(dtype, studentProjected.device), zeros(1, dtype: dtype, device: studentProjected.device));
                var tLogits = CodebookLogits.Compute(codebook.Project(tl), cb, Options.Temperature);
                logP = nn.functional.log_softmax(tLogits, -1);
                p = logP.exp();
            }
            var sp = where(valid.unsqueeze(-1), studentProjected, zeros(1, dtype: dtype, device: studentProjected.device));
            var logQ = nn.functional.log_softmax(CodebookLogits.Compute(sp, cb, Options.Temperature), -1);
            var perFrame = (p * (logP - logQ)).sum(-1);
            using var countS = ((double)count).ToScalar();
            using var weight = Options.Weight.ToScalar();
            kl = (perFrame * valid.to(dtype)).sum().div(countS).MoveToOuterDisposeScope();
            total = kl.mul(weight).MoveToOuterDisposeScope();
        }
        return new LossTerms(total, [new("kl", kl)]);
    }

    /// <summary>Computes the loss, projecting the student's last layer through its projection module first.</summary>
    /// <param name="teacherLast">The teacher's last layer <c>[batch, frames, teacherDim]</c>.</param>
    /// <param name="studentLast">The student's last layer <c>[batch, frames, studentDim]</c>.</param>
    /// <param name="studentProjection">The student's own projection to the code space (trainable).</param>
    /// <param name="codebook">The teacher's code space.</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool; <c>null</c> = all.</param>
    /// <returns>As <see cref="Compute(Tensor, Tensor, TeacherCodebook, Tensor?)"/>.</returns>
    /// <exception cref="ArgumentException">Shapes do not match, the mask is mis-shaped, or no frame is valid.</exception>
    public LossTerms Compute(Tensor teacherLast, Tensor studentLast, nn.Module<Tensor, Tensor> studentProjection, TeacherCodebook codebook,
        Tensor? validFrames = null)
    {
        ArgumentNullException.ThrowIfNull(studentLast);
        ArgumentNullException.ThrowIfNull(studentProjection);
        using var projected = studentProjection.forward(studentLast);
        return Compute(teacherLast, projected, codebook, validFrames);
    }
}
