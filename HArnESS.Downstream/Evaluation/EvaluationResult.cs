namespace HArnESS.Downstream.Evaluation;

/// <summary>What an evaluation of one model on one task returns: the metrics, the upstream's size and cost, and
/// the measured speed; <see cref="EvaluationTable"/> puts several side by side.</summary>
public sealed record EvaluationResult
{
    /// <summary>Model label in the table ("teacher", "HS", "HST", …).</summary>
    public required string Model { get; init; }

    /// <summary>Task name ("asr", "ser", "did", "kws", "sv").</summary>
    public required string Task { get; init; }

    /// <summary>The metrics, in display order.</summary>
    public required IReadOnlyList<MetricValue> Metrics { get; init; }

    /// <summary>Upstream encoder parameters.</summary>
    public long UpstreamParameters { get; init; }

    /// <summary>Upstream multiply-accumulates per second of 16 kHz audio.</summary>
    public long UpstreamMacsPerSecond { get; init; }

    /// <summary>Processing seconds per audio second of upstream + head over the evaluation set on the device used
    /// (wall clock, batches as evaluated; below 1 = faster than real time).</summary>
    public double RealTimeFactor { get; init; }

    /// <summary>Audio evaluated, seconds (valid samples only).</summary>
    public double AudioSeconds { get; init; }

    /// <summary>Utterances (or trials, for verification) evaluated.</summary>
    public int Count { get; init; }

    /// <summary>The full report behind the metrics (<c>ClassificationReport</c>, <c>ErrorRate</c> pair, <c>VerificationReport</c>), or null.</summary>
    public object? Details { get; init; }

    /// <summary>The value of the metric called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such metric; the message lists the ones there are.</exception>
    public double this[string name] => Metrics.FirstOrDefault(m => m.Name == name)?.Value
        ?? throw new KeyNotFoundException($"No metric '{name}' in the {Task} result of {Model} (has: {string.Join(", ", Metrics.Select(m => m.Name))}).");
}
