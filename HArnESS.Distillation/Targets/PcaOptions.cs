using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Distillation.Targets;

/// <summary>How many principal components <see cref="Pca"/> keeps, and whether it whitens.</summary>
public sealed record PcaOptions
{
    /// <summary>Keep this many components (exclusive with <see cref="VarianceThreshold"/>; both null = keep all).</summary>
    public int? Components { get; init; }

    /// <summary>Keep the fewest components whose explained-variance ratios sum to at least this fraction in (0, 1]
    /// (sklearn's <c>0 &lt; n_components &lt; 1</c> rule).</summary>
    public double? VarianceThreshold { get; init; }

    /// <summary>Scale each component to unit variance in <see cref="Pca.Transform"/> (undone by the inverse).</summary>
    public bool Whiten { get; init; }

    /// <summary>Where the fit logs: its start and result (information), refused components or too few frames (warning, before the error). Default <see cref="NullLoggerFactory.Instance"/> (nothing is logged).
    /// Not part of any signature (left out of the JSON the stage signature hashes).</summary>
    [JsonIgnore]
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every value and reports all failures at once.</summary>
    /// <exception cref="HArnessValidationException">A value is out of range; each failure names its option.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        Collect(errors);
        errors.ThrowIfAny(nameof(PcaOptions));
    }

    /// <summary>Adds every failure to <paramref name="errors"/>, option names prefixed with <paramref name="prefix"/>.</summary>
    internal void Collect(ValidationErrors errors, string? prefix = null)
    {
        string Name(string option) => prefix is null ? option : $"{prefix}.{option}";
        if (Components is not null && VarianceThreshold is not null)
            errors.Add(Name(nameof(Components)), "Give either Components or VarianceThreshold, not both.");
        if (LoggerFactory is null) errors.Add(Name(nameof(LoggerFactory)), "LoggerFactory must not be null (use NullLoggerFactory.Instance).");
        if (Components is < 1) errors.Add(Name(nameof(Components)), $"Components must be at least 1, got {Components}.");
        if (VarianceThreshold is { } v && (!(v > 0) || v > 1))
            errors.Add(Name(nameof(VarianceThreshold)), $"VarianceThreshold must be in (0, 1], got {v}.");
    }
}
