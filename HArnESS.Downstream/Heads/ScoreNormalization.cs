namespace HArnESS.Downstream.Heads;

/// <summary>Score normalisation of verification trials against a cohort of impostor embeddings.</summary>
public enum ScoreNormalization
{
    /// <summary>Raw cosine scores.</summary>
    None,

    /// <summary>Symmetric normalisation: <c>½((s − μ_e)/σ_e + (s − μ_t)/σ_t)</c> with the mean and standard deviation of
    /// each side's scores against the whole cohort (Kenny 2010).</summary>
    SNorm,

    /// <summary>Adaptive s-norm: as <see cref="SNorm"/> but each side's statistics come from its
    /// <see cref="CosineScoringOptions.CohortTopK"/> highest cohort scores (Matějka et al. 2017).</summary>
    AdaptiveSNorm,
}
