namespace HArnESS.Distillation.Losses;

/// <summary>Weights of HuBERT's masked-prediction loss (<see cref="MaskedPredictionLoss"/>); defaults are
/// fairseq's and torchaudio's (<c>pred_masked_weight 1</c>, <c>pred_nomask_weight 0</c>,
/// <c>feature_pen</c> weight 10).</summary>
public sealed record MaskedPredictionLossOptions
{
    /// <summary>Weight of the cross-entropy on masked frames (default 1), at least 0.</summary>
    public double MaskedWeight { get; init; } = 1.0;

    /// <summary>Weight of the cross-entropy on unmasked valid frames (default 0: not counted), at least 0.</summary>
    public double UnmaskedWeight { get; init; }

    /// <summary>Weight of the feature penalty (mean of the squared front-end features; default 10), at least 0.
    /// It is scaled by the sample size like fairseq's extra losses, so <see cref="LossReduction.Mean"/> adds
    /// exactly <c>weight · penalty</c>.</summary>
    public double FeaturePenaltyWeight { get; init; } = 10.0;

    /// <summary>Per-frame mean (default) or sum.</summary>
    public LossReduction Reduction { get; init; } = LossReduction.Mean;

    /// <summary>Throws <see cref="HArnessValidationException"/> listing every invalid option.</summary>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(MaskedWeight >= 0 && double.IsFinite(MaskedWeight), nameof(MaskedWeight), $"MaskedWeight must be finite and at least 0, got {MaskedWeight}.");
        e.Require(UnmaskedWeight >= 0 && double.IsFinite(UnmaskedWeight), nameof(UnmaskedWeight), $"UnmaskedWeight must be finite and at least 0, got {UnmaskedWeight}.");
        e.Require(MaskedWeight > 0 || UnmaskedWeight > 0 || !(MaskedWeight >= 0 && UnmaskedWeight >= 0), nameof(MaskedWeight),
            "MaskedWeight and UnmaskedWeight are both 0: no frame would be predicted.");
        e.Require(FeaturePenaltyWeight >= 0 && double.IsFinite(FeaturePenaltyWeight), nameof(FeaturePenaltyWeight),
            $"FeaturePenaltyWeight must be finite and at least 0, got {FeaturePenaltyWeight}.");
        e.Require(Enum.IsDefined(Reduction), nameof(Reduction), $"Reduction must be a LossReduction, got {(int)Reduction}.");
        e.ThrowIfAny(nameof(MaskedPredictionLossOptions));
    }
}
