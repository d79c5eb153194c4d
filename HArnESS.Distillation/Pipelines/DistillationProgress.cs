namespace HArnESS.Distillation.Pipelines;

/// <summary>The stages of <see cref="DistillationBuilder.RunAsync"/>.</summary>
public enum DistillationStage
{
    /// <summary>The student was initialised from the teacher.</summary>
    Initialization,

    /// <summary>Per-layer cosine similarity on the held-out utterances (before and after training).</summary>
    Evaluation,

    /// <summary>Training (one report per update, validation and checkpoint).</summary>
    Training,

    /// <summary>Finished.</summary>
    Done,

    /// <summary>Stage 1 of the front-end distillation (<see cref="DistillationOptions.FrontEndDistillation"/>): one
    /// report per update, as <see cref="Training"/>.</summary>
    FrontEnd,
}

/// <summary>Progress of a distillation run.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Message">One line with units, e.g. <c>"training: train: step 40/60 …, loss 1.21"</c>.</param>
/// <param name="Training">The trainer's report during <see cref="DistillationStage.Training"/>, else null.</param>
public sealed record DistillationProgress(DistillationStage Stage, string Message, Training.TrainingProgress? Training = null)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}
