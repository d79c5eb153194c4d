namespace HArnESS.Distillation.Pipelines;

/// <summary>What <see cref="StudentDistillationPipeline.RunAsync"/> (or the students stage of
/// <see cref="SelfDistillationPipeline"/>) did.</summary>
/// <param name="OutputDir">The run folder.</param>
/// <param name="Students">Every student's record, with what this call computed.</param>
public sealed record StudentDistillationResult(string OutputDir, IReadOnlyList<StudentRunResult> Students)
{
    /// <summary>Training updates this call ran, both stages of every student (0 on a rerun of a finished run).</summary>
    public long StepsTrained => Students.Sum(s => s.StepsTrained);
}

/// <summary>One student's outcome in this call.</summary>
/// <param name="Record">Its record (as in <c>pipeline.json</c>).</param>
/// <param name="Skipped">True when an earlier run had finished it with the same signature.</param>
/// <param name="StepsTrained">Updates this call trained (front-end stage included).</param>
/// <param name="StudentDir">The saved student's folder (absolute).</param>
public sealed record StudentRunResult(DistilledStudent Record, bool Skipped, long StepsTrained, string StudentDir);

/// <summary>Progress of <see cref="StudentDistillationPipeline.RunAsync"/>.</summary>
/// <param name="Student">The student's name.</param>
/// <param name="Index">0-based position in the run.</param>
/// <param name="Count">Students in the run.</param>
/// <param name="Stage">The distillation stage (<see cref="DistillationStage.Done"/> also for a skipped student).</param>
/// <param name="Message">One line with units, e.g. <c>"student hs (1/2) training: step 40/60 …"</c>.</param>
/// <param name="Reused">True when the student was finished by an earlier run and skipped.</param>
public sealed record StudentDistillationProgress(string Student, int Index, int Count, DistillationStage Stage, string Message, bool Reused = false)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}
