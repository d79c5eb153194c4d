namespace HArnESS.Distillation.Pipelines;

/// <summary>The stages of one self-distillation iteration.</summary>
public enum SelfDistillationStage
{
    /// <summary>Dump, (PCA,) k-means and labels of the training corpus (<see cref="Targets.TargetBuilder"/>).</summary>
    Targets,

    /// <summary>Labelling the held-out utterances with the codebook.</summary>
    HeldOutLabels,

    /// <summary>Masked pre-training (one report per update, validation and checkpoint).</summary>
    Training,

    /// <summary>Held-out masked-prediction accuracy of the final model.</summary>
    Evaluation,

    /// <summary>The iteration is finished (or was finished before and is skipped).</summary>
    Done,

    /// <summary>The students distilled from the final model (<see cref="SelfDistillationOptions.Students"/>); reported
    /// with the last iteration's number.</summary>
    Students,
}

/// <summary>Progress of <see cref="SelfDistillationPipeline.RunAsync"/>.</summary>
/// <param name="Iteration">1-based iteration.</param>
/// <param name="Iterations">Iterations in the run.</param>
/// <param name="Stage">The stage.</param>
/// <param name="Message">One line with units, e.g. <c>"iteration 2/2 training: step 40/60, loss 1.912"</c>.</param>
/// <param name="Reused">True when the stage was finished by an earlier run and skipped.</param>
public sealed record SelfDistillationProgress(int Iteration, int Iterations, SelfDistillationStage Stage, string Message, bool Reused = false)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}
