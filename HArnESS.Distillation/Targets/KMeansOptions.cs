using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Mini-batch k-means settings with sklearn's <c>MiniBatchKMeans</c> meanings. The defaults are the HuBERT recipe's
/// (fairseq <c>examples/hubert/simple_kmeans/learn_kmeans.py</c>): k-means++ init, <c>max_iter=100</c>,
/// <c>batch_size=10000</c>, <c>tol=0</c>, <c>max_no_improvement=100</c>, <c>n_init=20</c>, <c>init_size=3*batch</c>,
/// <c>reassignment_ratio=0</c>.
/// </summary>
public sealed record KMeansOptions
{
    /// <summary>Number of clusters K.</summary>
    public int Clusters { get; init; } = 100;

    /// <summary>Maximum passes over the data (sklearn <c>max_iter</c>); the step budget is <c>max_iter * n / batch</c>.</summary>
    public int MaxIter { get; init; } = 100;

    /// <summary>Mini-batch size (sklearn <c>batch_size</c>), clipped to the number of frames.</summary>
    public int BatchSize { get; init; } = 10_000;

    /// <summary>Tolerance on the squared centre change per step, relative to the mean feature variance as sklearn's
    /// <c>_tolerance</c>; 0 disables it.</summary>
    public double Tolerance { get; init; }

    /// <summary>Stop after this many steps without improvement of the smoothed (EWA) batch inertia; null disables it.</summary>
    public int? MaxNoImprovement { get; init; } = 100;

    /// <summary>Number of k-means++ initialisations; the one with the lowest inertia on a validation sample wins.</summary>
    public int NInit { get; init; } = 20;

    /// <summary>Frames sampled (with replacement) for each initialisation and for the validation set; null = 3 × batch
    /// size (at least 3 × K), as sklearn.</summary>
    public int? InitSize { get; init; }

    /// <summary>Centres whose count falls below this fraction of the largest count are moved to random frames of the
    /// batch (sklearn <c>reassignment_ratio</c>; the recipe uses 0 = never).</summary>
    public double ReassignmentRatio { get; init; }

    /// <summary>Local trials per k-means++ centre; null = 2 + ln(K) as sklearn.</summary>
    public int? LocalTrials { get; init; }

    /// <summary>Seed of every random draw (init samples, k-means++, mini-batches, reassignment).</summary>
    public int Seed { get; init; }

    /// <summary>Full-batch Lloyd iterations run after the mini-batch phase (0 = none, as the recipe).</summary>
    public int LloydIterations { get; init; }

    /// <summary>Lloyd stops early when the largest squared centre shift falls below this.</summary>
    public double LloydTolerance { get; init; } = 1e-6;

    /// <summary>Compute the final inertia with a full pass over the data (sklearn <c>compute_labels</c>); otherwise it
    /// is estimated from the smoothed batch inertia.</summary>
    public bool ComputeInertia { get; init; } = true;

    /// <summary>For streamed sources: rows held in the shuffle buffer batches are drawn from; null = 8 × batch size.</summary>
    public long? ShuffleBufferRows { get; init; }

    /// <summary>Where the fit logs: its start and result (information), every initialisation, every 50th mini-batch step, centre reassignments and Lloyd passes (debug), a refused K or NaN features (warning, before the error). Default <see cref="NullLoggerFactory.Instance"/> (nothing is logged).
    /// Not part of any signature (left out of the JSON the stage signature hashes).</summary>
    [JsonIgnore]
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every value and reports all failures at once.</summary>
    /// <exception cref="HArnessValidationException">A value is out of range; each failure names its option.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        Collect(errors);
        errors.ThrowIfAny(nameof(KMeansOptions));
    }

    /// <summary>Adds every failure to <paramref name="errors"/>, option names prefixed with <paramref name="prefix"/>.</summary>
    internal void Collect(ValidationErrors errors, string? prefix = null)
    {
        string Name(string option) => prefix is null ? option : $"{prefix}.{option}";
        if (Clusters < 1) errors.Add(Name(nameof(Clusters)), $"Clusters must be at least 1, got {Clusters}.");
        if (MaxIter < 1) errors.Add(Name(nameof(MaxIter)), $"MaxIter must be at least 1, got {MaxIter}.");
        if (BatchSize < 1) errors.Add(Name(nameof(BatchSize)), $"BatchSize must be at least 1, got {BatchSize}.");
        if (Tolerance < 0 || double.IsNaN(Tolerance)) errors.Add(Name(nameof(Tolerance)), $"Tolerance must be >= 0, got {Tolerance}.");
        if (MaxNoImprovement is < 1) errors.Add(Name(nameof(MaxNoImprovement)), $"MaxNoImprovement must be >= 1 or null, got {MaxNoImprovement}.");
        if (NInit < 1) errors.Add(Name(nameof(NInit)), $"NInit must be at least 1, got {NInit}.");
        if (InitSize is < 1) errors.Add(Name(nameof(InitSize)), $"InitSize must be >= 1 or null, got {InitSize}.");
        if (ReassignmentRatio < 0 || double.IsNaN(ReassignmentRatio))
            errors.Add(Name(nameof(ReassignmentRatio)), $"ReassignmentRatio must be >= 0, got {ReassignmentRatio}.");
        if (LocalTrials is < 1) errors.Add(Name(nameof(LocalTrials)), $"LocalTrials must be >= 1 or null, got {LocalTrials}.");
        if (LloydIterations < 0) errors.Add(Name(nameof(LloydIterations)), $"LloydIterations must be >= 0, got {LloydIterations}.");
        if (LloydTolerance < 0) errors.Add(Name(nameof(LloydTolerance)), $"LloydTolerance must be >= 0, got {LloydTolerance}.");
        if (LoggerFactory is null) errors.Add(Name(nameof(LoggerFactory)), "LoggerFactory must not be null (use NullLoggerFactory.Instance).");
        if (ShuffleBufferRows is < 1) errors.Add(Name(nameof(ShuffleBufferRows)), $"ShuffleBufferRows must be >= 1 or null, got {ShuffleBufferRows}.");
    }
}
