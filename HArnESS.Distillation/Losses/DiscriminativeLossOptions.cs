namespace HArnESS.Distillation.Losses;

/// <summary>Options of the discriminative (code-distribution) losses: <see cref="DiscriminativeLoss"/> (soft
/// teacher codes, KL) and <see cref="CodebookCrossEntropyLoss"/> (hard k-means labels, cross-entropy).</summary>
public sealed record DiscriminativeLossOptions
{
    /// <summary>τ, the divisor of the cosine logits on both sides (default 0.1, HuBERT's and Wang et al.'s).</summary>
    public double Temperature { get; init; } = 0.1;

    /// <summary>Weight of the term in <see cref="LossTerms.Total"/> (beside a regression loss); default 1, at least 0.</summary>
    public double Weight { get; init; } = 1.0;

    /// <summary>Throws <see cref="HArnessValidationException"/> listing every invalid option.</summary>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Temperature > 0 && double.IsFinite(Temperature), nameof(Temperature), $"Temperature must be positive and finite, got {Temperature}.");
        e.Require(Weight >= 0 && double.IsFinite(Weight), nameof(Weight), $"Weight must be finite and at least 0, got {Weight}.");
        e.ThrowIfAny(nameof(DiscriminativeLossOptions));
    }
}
