namespace HArnESS.Training;

/// <summary>What the trainer does when a loss term or the gradient norm is NaN or infinite.</summary>
public enum NonFiniteLossPolicy
{
    /// <summary>Stop with <see cref="HArnessNonFiniteLossException"/> naming the term and the step; the model is left
    /// as it was after the last good update and a checkpoint of that state is written (when checkpointing is on).</summary>
    Stop,

    /// <summary>Skip the update (no parameter or optimiser change) and go on, up to
    /// <see cref="TrainerOptions.MaxSkippedSteps"/> skipped updates in the run; one more stops as <see cref="Stop"/> does.</summary>
    Skip,
}
