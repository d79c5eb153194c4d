using HArnESS.Features;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>Global CMVN a front-end applies to its features: <c>(x - Mean) * Scale</c> per dimension, with
/// <c>Scale = 1 / std</c> (or 1 without variance normalisation). An immutable snapshot of <see cref="CmvnStats"/>
/// that is saved inside the encoder's config (JSON <c>"Mean"</c>, <c>"Scale"</c>, <c>"FrameCount"</c>), so a saved
/// student reproduces its preprocessing.</summary>
public sealed record GlobalCmvn
{
    /// <summary>Per-dimension mean subtracted first.</summary>
    public IReadOnlyList<double> Mean { get; init; } = [];

    /// <summary>Per-dimension factor applied after the mean is subtracted (1 / standard deviation).</summary>
    public IReadOnlyList<double> Scale { get; init; } = [];

    /// <summary>Frames the statistics were accumulated over (informational).</summary>
    public long FrameCount { get; init; }

    /// <summary>Feature dimension.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Dim => Mean.Count;

    /// <summary>Takes the normalisation <see cref="CmvnStats.Apply(Tensor, bool, double)"/> would apply.</summary>
    /// <param name="stats">Accumulated statistics (at least one frame).</param>
    /// <param name="normalizeVariance">Divide by the standard deviation as well as subtracting the mean.</param>
    /// <param name="varianceFloor">Floor on the variance before dividing.</param>
    /// <exception cref="HArnessDataException">The statistics hold no frames.</exception>
    public static GlobalCmvn FromStats(CmvnStats stats, bool normalizeVariance = true, double varianceFloor = Cmvn.DefaultVarianceFloor)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var mean = stats.Mean();
        var scale = normalizeVariance ? stats.Variance(varianceFloor).Select(v => 1.0 / Math.Sqrt(v)).ToArray() : Enumerable.Repeat(1.0, stats.Dim).ToArray();
        return new GlobalCmvn { Mean = mean, Scale = scale, FrameCount = stats.FrameCount };
    }

    /// <summary>Normalises <c>[..., Dim]</c> features in their own dtype (the statistics are cast to it, as
    /// <see cref="CmvnStats.Apply(Tensor, bool, double)"/> does).</summary>
    public Tensor Apply(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() < 1 || features.shape[^1] != Dim)
            throw new ArgumentException($"Expected features ending in dim {Dim}, got [{string.Join(", ", features.shape)}].", nameof(features));
        using var scope = NewDisposeScope();
        var y = features - tensor(Mean.ToArray(), device: features.device).to(features.dtype);
        y = y * tensor(Scale.ToArray(), device: features.device).to(features.dtype);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Adds every invalid value to <paramref name="errors"/>.</summary>
    /// <param name="errors">The collector.</param>
    /// <param name="option">This section's option name.</param>
    /// <param name="dim">The feature dim the statistics must have.</param>
    public void Validate(ValidationErrors errors, string option, int dim)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Mean is null || Scale is null || Mean.Count != dim || Scale.Count != dim)
        {
            errors.Add(option, $"{option} must hold {dim} means and {dim} scales (the feature dim), got {Mean?.Count ?? 0} and {Scale?.Count ?? 0}.");
            return;
        }
        if (Mean.Any(m => !double.IsFinite(m))) errors.Add($"{option}.{nameof(Mean)}", $"{option}.{nameof(Mean)} must be finite.");
        if (Scale.Any(s => !double.IsFinite(s) || s <= 0)) errors.Add($"{option}.{nameof(Scale)}", $"{option}.{nameof(Scale)} must be finite and positive.");
        if (FrameCount < 0) errors.Add($"{option}.{nameof(FrameCount)}", $"{option}.{nameof(FrameCount)} must be non-negative, got {FrameCount}.");
    }

    /// <summary>Value equality over the statistics.</summary>
    public bool Equals(GlobalCmvn? other) =>
        other is not null && FrameCount == other.FrameCount && Mean.SequenceEqual(other.Mean) && Scale.SequenceEqual(other.Scale);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mean.Count, FrameCount, Mean.Count > 0 ? Mean[0] : 0);
}
