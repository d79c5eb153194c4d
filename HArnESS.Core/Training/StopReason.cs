namespace HArnESS.Training;

/// <summary>Why a run ended.</summary>
public enum StopReason
{
    /// <summary><see cref="TrainerOptions.MaxSteps"/> updates were done.</summary>
    MaxSteps,

    /// <summary>The validation metric did not improve for <see cref="TrainerOptions.EarlyStoppingPatience"/> validations.</summary>
    EarlyStopping,
}
