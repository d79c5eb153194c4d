using HArnESS.Distillation.Students;
using HArnESS.Training;

namespace HArnESS.Distillation.Pipelines;

/// <summary>What a distillation run produced.</summary>
/// <param name="Student">The trained student (the caller owns and disposes it; when the builder was given a ready
/// student, it is that one).</param>
/// <param name="Training">The trainer's result (steps, loss history, checkpoints).</param>
/// <param name="TeacherLayers">The predicted teacher layers, in head order.</param>
/// <param name="CosineBefore">Mean cosine similarity per predicted layer between the student's predictions and the
/// teacher's (compacted) layers on the held-out utterances before training (after initialisation); null without a
/// held-out manifest.</param>
/// <param name="CosineAfter">The same after training; null without a held-out manifest.</param>
/// <param name="InitializedFromTeacher">The student keys copied from the teacher.</param>
/// <param name="CompactionVariance">Per predicted layer, the share of the teacher layer's variance its PCA keeps; null without compaction.</param>
public sealed record DistillationResult(DistillationStudent Student, TrainingResult Training, IReadOnlyList<int> TeacherLayers,
    IReadOnlyList<double>? CosineBefore, IReadOnlyList<double>? CosineAfter, IReadOnlyList<string> InitializedFromTeacher,
    IReadOnlyList<double>? CompactionVariance)
{
    /// <summary>Stage 1 of the front-end distillation when <see cref="DistillationOptions.FrontEndDistillation"/> was
    /// set (its trainer's result, resumed like the main run), else null.</summary>
    public TrainingResult? FrontEndTraining { get; init; }
}
