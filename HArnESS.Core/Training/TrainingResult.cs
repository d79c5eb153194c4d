namespace HArnESS.Training;

/// <summary>The outcome of <see cref="Trainer{TBatch}.Run"/>.</summary>
/// <param name="Steps">Updates done (including those of the run resumed from).</param>
/// <param name="Reason">Why it ended.</param>
/// <param name="ResumedFromStep">The step of the checkpoint this run resumed from, or null when it started fresh.</param>
/// <param name="SkippedSteps">Updates skipped for non-finite losses (and float16 overflows).</param>
/// <param name="BestMetric">The best validation metric, or null without validation.</param>
/// <param name="BestStep">The step it was reached at.</param>
/// <param name="LastCheckpoint">The newest checkpoint written, or null.</param>
/// <param name="BestCheckpoint">The best checkpoint, or null.</param>
/// <param name="History">Every update's and validation's losses.</param>
public sealed record TrainingResult(long Steps, StopReason Reason, long? ResumedFromStep, long SkippedSteps,
    double? BestMetric, long? BestStep, string? LastCheckpoint, string? BestCheckpoint, LossHistory History);
