using HArnESS.Data;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Training;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Offline;

/// <summary>
/// Distillation from dumped teacher targets (<see cref="OfflineTeacherTargets"/>), as a trainer objective: no teacher
/// runs; each batch reads the student's teacher layers for its rows' crops from the dump, runs the student, cuts both
/// to the same frames and returns the same <see cref="RegressionLoss"/> terms as the online
/// <c>Pipelines.DistillationObjective</c>: <c>regression</c> (weight 1) and the parts <c>rec_l4</c>, <c>sim_l4</c>, …
/// (weight 0). A PCA-compacted dump trains a student whose <c>CompactDim</c> is the dump's width. The discriminative
/// loss needs the teacher's last layer through its own head, so it stays with the online objective.
/// </summary>
public sealed class OfflineDistillationObjective : ITrainingObjective<AudioBatch>
{
    private readonly RegressionLoss _regression;

    /// <summary>Creates the objective and checks the student against the dump.</summary>
    /// <param name="student">The student (not owned).</param>
    /// <param name="targets">The dump (not owned; open it with <see cref="OfflineTeacherTargets.Open"/> or take what
    /// <see cref="OfflineTeacherTargets.Dump"/> returned, and check it against the teacher with
    /// <see cref="OfflineTeacherTargets.EnsureMatches"/> when the teacher is at hand).</param>
    /// <param name="regression">The regression loss; null = DistilHuBERT's (L1 + λ·(−log σ(cos)), λ = 1).</param>
    /// <exception cref="HArnessValidationException">The student does not fit the dumped teacher (a layer the dump
    /// lacks, a target width other than the dump's, a sample-rate or frame-rate mismatch), or the loss options are
    /// invalid; every problem named.</exception>
    public OfflineDistillationObjective(DistillationStudent student, OfflineTeacherTargets targets, RegressionLossOptions? regression = null)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(targets);
        var errors = new ValidationErrors();
        var config = student.Config;
        try { config.ValidateAgainst(targets.TeacherConfig); }
        catch (HArnessValidationException ex) { errors.AddRange(ex.Errors, "Student"); }
        for (var i = 0; i < student.TeacherLayers.Count; i++)
            errors.Require(targets.Layers.Contains(student.TeacherLayers[i]), $"Student.TeacherLayers[{i}]",
                $"The student predicts teacher layer {student.TeacherLayers[i]} but the dump '{targets.Directory}' holds layers {string.Join(", ", targets.Layers)}.");
        errors.Require(config.TargetDim == targets.Dimension, "Student.TargetDim",
            $"The student predicts {config.TargetDim} dims but the dump holds {targets.Dimension}-dim targets{(targets.IsCompacted ? " (PCA-compacted: set CompactDim)" : "")}.");
        try { _regression = new RegressionLoss(regression); }
        catch (HArnessValidationException ex) { errors.AddRange(ex.Errors, "Regression"); _regression = null!; }
        errors.ThrowIfAny(nameof(OfflineDistillationObjective));
        Student = student;
        Targets = targets;
    }

    /// <summary>The student.</summary>
    public DistillationStudent Student { get; }

    /// <summary>The dumped teacher targets.</summary>
    public OfflineTeacherTargets Targets { get; }

    /// <summary>The one module to train: <c>student</c> (as the online objective names it, so checkpoints agree).</summary>
    public IReadOnlyList<TrainableModule> Modules => [new("student", Student)];

    /// <inheritdoc/>
    public TrainingLoss Compute(AudioBatch batch, TrainingStepContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var waves = context.CastInput(batch.Waveforms);
        var lengths = batch.Lengths.to(context.Device);
        using var teacher = Targets.Read(batch, Student.TeacherLayers, context.Device);
        using var studentOut = Student.Forward(waves, lengths);
        using var aligned = studentOut.Align(teacher.Targets, teacher.FrameLengths);
        using var reg = _regression.Compute(aligned.Predictions.Select(p => p.to_type(ScalarType.Float32)).ToArray(),
            aligned.Targets, aligned.ValidFrames, Student.TeacherLayers);
        var terms = new List<LossTerm> { new("regression", reg.Total.alias()) };
        foreach (var name in reg.Names) terms.Add(new LossTerm(name, reg.Terms[name].detach(), 0));
        return new TrainingLoss(terms, batch.Count);
    }
}
