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

    /// <summary>Throws <see cref="HArnessConfigException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Components is not null && VarianceThreshold is not null)
            throw new HArnessConfigException("Give either Components or VarianceThreshold, not both.", nameof(Components));
        if (Components is < 1) throw new HArnessConfigException($"Components must be at least 1, got {Components}.", nameof(Components));
        if (VarianceThreshold is { } v && (!(v > 0) || v > 1))
            throw new HArnessConfigException($"VarianceThreshold must be in (0, 1], got {v}.", nameof(VarianceThreshold));
    }
}
