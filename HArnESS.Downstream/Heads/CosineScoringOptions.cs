namespace HArnESS.Downstream.Heads;

/// <summary>How <see cref="CosineScorer"/> scores trials.</summary>
public sealed record CosineScoringOptions
{
    /// <summary>Score normalisation; anything but <see cref="ScoreNormalization.None"/> needs a cohort. Default none.</summary>
    public ScoreNormalization Normalization { get; init; } = ScoreNormalization.None;

    /// <summary>Cohort scores used per side by <see cref="ScoreNormalization.AdaptiveSNorm"/>, ≥ 2 (capped at the cohort size). Default 200.</summary>
    public int CohortTopK { get; init; } = 200;

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">A value is out of range.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Enum.IsDefined(Normalization), nameof(Normalization), $"{nameof(Normalization)} {(int)Normalization} is not a {nameof(ScoreNormalization)}.");
        e.Require(CohortTopK >= 2, nameof(CohortTopK), $"{nameof(CohortTopK)} must be ≥ 2, got {CohortTopK}.");
        e.ThrowIfAny(nameof(CosineScoringOptions));
    }
}
