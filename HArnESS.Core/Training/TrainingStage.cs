namespace HArnESS.Training;

/// <summary>What a <see cref="TrainingProgress"/> report is about.</summary>
public enum TrainingStage
{
    /// <summary>Resumed from a checkpoint (reported once, before the first new update).</summary>
    Resumed,

    /// <summary>An update finished.</summary>
    Training,

    /// <summary>A validation pass finished.</summary>
    Validation,

    /// <summary>A checkpoint was written.</summary>
    Checkpoint,

    /// <summary>An update was skipped (non-finite loss under <see cref="NonFiniteLossPolicy.Skip"/>, or a float16 overflow).</summary>
    Skipped,

    /// <summary>The run ended.</summary>
    Finished,
}
