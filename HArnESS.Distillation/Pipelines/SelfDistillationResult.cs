namespace HArnESS.Distillation.Pipelines;

/// <summary>What <see cref="SelfDistillationPipeline.RunAsync"/> did.</summary>
/// <param name="OutputDir">The run folder.</param>
/// <param name="Iterations">Every iteration's record, with what this call computed.</param>
/// <param name="FinalModel">The last iteration's model folder (absolute): the HL teacher, loadable by
/// <c>DistillationTeacher.Load</c> with its codebook.</param>
public sealed record SelfDistillationResult(string OutputDir, IReadOnlyList<SelfDistillationIterationResult> Iterations, string FinalModel)
{
    /// <summary>k-means fits this call ran (0 on a rerun of a finished run).</summary>
    public int KMeansFits => Iterations.Count(i => i.FittedKMeans);

    /// <summary>Training updates this call ran, students included (0 on a rerun of a finished run).</summary>
    public long StepsTrained => Iterations.Sum(i => i.StepsTrained) + (Students?.StepsTrained ?? 0);

    /// <summary>The students distilled from <see cref="FinalModel"/> when <see cref="SelfDistillationOptions.Students"/>
    /// was set, else null.</summary>
    public StudentDistillationResult? Students { get; init; }
}

/// <summary>One iteration's outcome in this call.</summary>
/// <param name="Record">The iteration's record (as in <c>pipeline.json</c>).</param>
/// <param name="Skipped">True when an earlier run had finished it with the same signature.</param>
/// <param name="FittedKMeans">True when this call fitted its k-means (false when skipped or the targets pipeline reused it).</param>
/// <param name="StepsTrained">Updates this call trained.</param>
/// <param name="ResumedFromStep">The checkpoint step training resumed from, or null.</param>
public sealed record SelfDistillationIterationResult(SelfDistillationIteration Record, bool Skipped, bool FittedKMeans, long StepsTrained, long? ResumedFromStep);
