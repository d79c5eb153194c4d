namespace HArnESS.Training;

/// <summary>Whether a run continues from checkpoints already in <see cref="TrainerOptions.CheckpointDirectory"/>.</summary>
public enum ResumeMode
{
    /// <summary>Resume from the newest intact checkpoint when there is one, else start fresh (the default).</summary>
    Auto,

    /// <summary>Always start fresh (existing checkpoints are overwritten as the run goes).</summary>
    Never,

    /// <summary>Resume, and fail with <see cref="HArnessCheckpointException"/> when there is no intact checkpoint.</summary>
    Required,
}
