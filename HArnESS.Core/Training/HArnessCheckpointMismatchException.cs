namespace HArnESS.Training;

/// <summary>A training checkpoint belongs to a different run config than the one resuming from it; the message
/// lists every entry that differs (checkpoint value vs current value).</summary>
public sealed class HArnessCheckpointMismatchException : HArnessCheckpointException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The checkpoint.</param>
    /// <param name="differences">Each differing entry: key, the checkpoint's value (null = absent), the current one (null = absent).</param>
    public HArnessCheckpointMismatchException(string filePath, IReadOnlyList<ConfigDifference> differences)
        : base($"Checkpoint '{filePath}' was written under a different run config ({differences.Count} difference(s)); refusing to resume:" +
               string.Concat(differences.Select(d => $"\n- {d.Key}: checkpoint {d.CheckpointValue ?? "(absent)"}, now {d.CurrentValue ?? "(absent)"}")) +
               "\nUse another CheckpointDirectory, or set ResumeMode.Never to start over.", filePath)
    {
        Differences = differences;
    }

    /// <summary>Every entry that differs.</summary>
    public IReadOnlyList<ConfigDifference> Differences { get; }
}

/// <summary>One run-config entry that differs between a checkpoint and the current run.</summary>
/// <param name="Key">The entry ("LearningRate", "modules.head.parameters", "source.train").</param>
/// <param name="CheckpointValue">The checkpoint's value, or null when it has none.</param>
/// <param name="CurrentValue">The current value, or null when the current run has none.</param>
public sealed record ConfigDifference(string Key, string? CheckpointValue, string? CurrentValue);
