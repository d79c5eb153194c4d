using System.Globalization;
using System.Text;

namespace HArnESS.Training;

/// <summary>One progress report of a training run. <see cref="ToString"/> is the one-line form with units
/// ("train: step 120/1000 (12%), epoch 3, loss 2.314 (ce 2.301, pen 0.013), lr 4.8e-04, |g| 1.92, 812.4 audio s/s, ETA 00:01:23").</summary>
public sealed record TrainingProgress
{
    /// <summary>What happened.</summary>
    public required TrainingStage Stage { get; init; }

    /// <summary>Updates done so far.</summary>
    public required long Step { get; init; }

    /// <summary>Updates in the run (<see cref="TrainerOptions.MaxSteps"/>).</summary>
    public required long TotalSteps { get; init; }

    /// <summary>The epoch of the next batch (0-based).</summary>
    public required int Epoch { get; init; }

    /// <summary>The next batch within the epoch (0-based) and the epoch's batch count.</summary>
    public required int Batch { get; init; }

    /// <summary>Batches in the current epoch.</summary>
    public required int BatchesPerEpoch { get; init; }

    /// <summary>The last update's loss terms (mean over its accumulated batches, weighted by sample size), or, for
    /// <see cref="TrainingStage.Validation"/>, the validation means; "total" is the weighted sum.</summary>
    public IReadOnlyDictionary<string, double> Losses { get; init; } = new Dictionary<string, double>();

    /// <summary>The learning rate of the first module's groups for the last update.</summary>
    public double LearningRate { get; init; }

    /// <summary>Global gradient norm of the last update before clipping (NaN when skipped).</summary>
    public double GradientNorm { get; init; }

    /// <summary>Audio seconds trained per wall-clock second since the run (or resume) started.</summary>
    public double AudioSecondsPerSecond { get; init; }

    /// <summary>Estimated time to <see cref="TotalSteps"/> at the pace so far; null before the first update.</summary>
    public TimeSpan? Eta { get; init; }

    /// <summary>The validation metric (validation reports, and afterwards the best so far), with its name.</summary>
    public double? Metric { get; init; }

    /// <summary>The metric's name ("loss" when the validation total loss is used).</summary>
    public string? MetricName { get; init; }

    /// <summary>The float16 loss scale (1 otherwise).</summary>
    public double LossScale { get; init; } = 1;

    /// <summary>The checkpoint written, for <see cref="TrainingStage.Checkpoint"/> reports.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>The one-line text form.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(Stage switch
        {
            TrainingStage.Validation => "valid",
            TrainingStage.Checkpoint => "checkpoint",
            TrainingStage.Resumed => "resumed",
            TrainingStage.Skipped => "skipped",
            TrainingStage.Finished => "finished",
            _ => "train",
        });
        sb.Append(c, $": step {Step}/{TotalSteps} ({100.0 * Step / Math.Max(1, TotalSteps):F0}%), epoch {Epoch} batch {Batch}/{BatchesPerEpoch}");
        if (Losses.TryGetValue("total", out var total))
        {
            sb.Append(c, $", loss {total:G4}");
            var terms = Losses.Where(kv => kv.Key != "total").ToArray();
            if (terms.Length > 1 || (terms.Length == 1 && terms[0].Key != "loss"))
                sb.Append(" (").AppendJoin(", ", terms.Select(kv => string.Create(c, $"{kv.Key} {kv.Value:G4}"))).Append(')');
        }
        if (Stage is TrainingStage.Training or TrainingStage.Skipped)
        {
            sb.Append(c, $", lr {LearningRate:0.0##e+00}, |g| {GradientNorm:G3}, {AudioSecondsPerSecond:F1} audio s/s");
            if (LossScale != 1) sb.Append(c, $", scale {LossScale:G3}");
        }
        if (Metric is { } m) sb.Append(c, $", {MetricName ?? "metric"} {m:G4}");
        if (Eta is { } eta) sb.Append(c, $", ETA {eta:hh\\:mm\\:ss}");
        if (CheckpointPath is not null) sb.Append(", ").Append(CheckpointPath);
        return sb.ToString();
    }
}
