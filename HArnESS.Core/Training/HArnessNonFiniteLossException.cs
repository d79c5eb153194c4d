namespace HArnESS.Training;

/// <summary>Training met a NaN or infinite loss term or gradient norm and stopped (see
/// <see cref="NonFiniteLossPolicy"/>). The message names the term, its value, the update and the batch.</summary>
public sealed class HArnessNonFiniteLossException : HArnessException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="term">The loss term ("total" for the weighted sum, "grad_norm" for the gradients).</param>
    /// <param name="value">Its value (NaN or ±Inf).</param>
    /// <param name="step">The update (0-based).</param>
    /// <param name="position">The batch that produced it.</param>
    /// <param name="skipped">Updates skipped before this one.</param>
    /// <param name="checkpoint">The last good checkpoint kept, if any.</param>
    public HArnessNonFiniteLossException(string term, double value, long step, BatchPosition position, long skipped, string? checkpoint)
        : base($"Loss term '{term}' is {value} at update {step} ({position}); training stopped" +
               (skipped > 0 ? $" after {skipped} skipped update(s)" : "") +
               (checkpoint is null ? "." : $"; the last good state is in '{checkpoint}'."))
    {
        Term = term;
        Value = value;
        Step = step;
        Position = position;
        CheckpointPath = checkpoint;
    }

    /// <summary>The term that was not finite.</summary>
    public string Term { get; }

    /// <summary>Its value.</summary>
    public double Value { get; }

    /// <summary>The update (0-based).</summary>
    public long Step { get; }

    /// <summary>The batch.</summary>
    public BatchPosition Position { get; }

    /// <summary>The last good checkpoint, or null when checkpointing is off.</summary>
    public string? CheckpointPath { get; }
}
