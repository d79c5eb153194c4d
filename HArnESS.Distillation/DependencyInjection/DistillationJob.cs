using HArnESS.Data;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Training;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>
/// One layer-regression distillation run for <see cref="DistillationJobRunner.Run"/>: a frozen teacher, the student
/// that predicts its layers (<see cref="DistillationStudent.TeacherLayers"/>), the audio batches, and optional
/// per-job changes to the container's trainer and loss options. The job owns nothing: the caller disposes the models.
/// </summary>
public sealed record DistillationJob
{
    /// <summary>The teacher, run without gradient in eval mode on every batch.</summary>
    public required DistillationTeacher Teacher { get; init; }

    /// <summary>The student (encoder and prediction heads/projections are trained together as module "student").</summary>
    public required DistillationStudent Student { get; init; }

    /// <summary>The training batches, e.g. an <see cref="AudioLoaderBatchSource"/> over a manifest.</summary>
    public required IBatchSource<AudioBatch> Train { get; init; }

    /// <summary>Validation batches (the mean validation loss picks the best checkpoint), or null.</summary>
    public IBatchSource<AudioBatch>? Validation { get; init; }

    /// <summary>Changes to the container's <see cref="TrainerOptions"/> for this job, or null.</summary>
    public Func<TrainerOptions, TrainerOptions>? Trainer { get; init; }

    /// <summary>This job's loss, or null for <see cref="DistillationServiceOptions.Loss"/>.</summary>
    public RegressionLossOptions? Loss { get; init; }
}
