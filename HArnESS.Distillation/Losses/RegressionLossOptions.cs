namespace HArnESS.Distillation.Losses;

/// <summary>How <see cref="RegressionLoss"/> compares predicted layers with teacher layers. Per layer
/// <c>L_l = rec_l + SimilarityWeight · sim_l</c>, where <c>rec_l</c> averages the element-wise error over the valid
/// frames and the dimension and <c>sim_l</c> averages the cosine term over the valid frames; the total is
/// <c>Σ_l w_l · L_l</c>. Defaults are DistilHuBERT's (s3prl <c>config_model.yaml</c>: <c>loss_type: l1</c>,
/// <c>cosine_loss: 1.0</c>, layers averaged).</summary>
public sealed record RegressionLossOptions
{
    /// <summary>DistilHuBERT: L1 + 1 · mean(−log σ(cos)), layers averaged (the defaults).</summary>
    public static RegressionLossOptions DistilHubert { get; } = new();

    /// <summary>Mean squared error only, layers averaged.</summary>
    public static RegressionLossOptions Mse { get; } = new() { Reconstruction = ReconstructionKind.Mse, Similarity = SimilarityKind.None };

    /// <summary>Mean of <c>1 − cos</c> only, layers averaged.</summary>
    public static RegressionLossOptions Cosine { get; } = new() { Reconstruction = ReconstructionKind.None, Similarity = SimilarityKind.OneMinusCosine };

    /// <summary>The element-wise term (default <see cref="ReconstructionKind.L1"/>).</summary>
    public ReconstructionKind Reconstruction { get; init; } = ReconstructionKind.L1;

    /// <summary>The cosine term (default <see cref="SimilarityKind.NegLogSigmoidCosine"/>).</summary>
    public SimilarityKind Similarity { get; init; } = SimilarityKind.NegLogSigmoidCosine;

    /// <summary>λ, the weight of the cosine term inside each layer's loss (default 1, DistilHuBERT); at least 0.</summary>
    public double SimilarityWeight { get; init; } = 1.0;

    /// <summary>One weight per predicted layer, in the order the layers are passed; <c>null</c> (default) gives
    /// each of the N layers <c>1/N</c>, which is s3prl's reduction (its losses are means over a B × N × T × D
    /// stack). Weights are at least 0 and not all 0.</summary>
    public IReadOnlyList<double>? LayerWeights { get; init; }

    /// <summary>Weight of the front-end feature penalty <c>mean(features²)</c> (s3prl's <c>feat_pen_loss</c>;
    /// default 0 as in DistilHuBERT's config); used when features are passed to <see cref="RegressionLoss.Compute"/>.</summary>
    public double FeaturePenaltyWeight { get; init; }

    /// <summary>Smallest norm product in the cosine, as <c>torch.nn.functional.cosine_similarity</c>'s <c>eps</c>
    /// (default 1e-8).</summary>
    public double CosineEpsilon { get; init; } = 1e-8;

    /// <summary>Throws <see cref="HArnessValidationException"/> listing every invalid option.</summary>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Enum.IsDefined(Reconstruction), nameof(Reconstruction), $"Reconstruction must be a ReconstructionKind, got {(int)Reconstruction}.");
        e.Require(Enum.IsDefined(Similarity), nameof(Similarity), $"Similarity must be a SimilarityKind, got {(int)Similarity}.");
        e.Require(Reconstruction != ReconstructionKind.None || Similarity != SimilarityKind.None, nameof(Reconstruction),
            "Reconstruction and Similarity are both None: the loss would have no term.");
        e.Require(double.IsFinite(SimilarityWeight) && SimilarityWeight >= 0, nameof(SimilarityWeight),
            $"SimilarityWeight must be finite and at least 0, got {SimilarityWeight}.");
        e.Require(Reconstruction != ReconstructionKind.None || Similarity == SimilarityKind.None || SimilarityWeight > 0, nameof(SimilarityWeight),
            "SimilarityWeight is 0 and Reconstruction is None: the loss would always be 0.");
        e.Require(FeaturePenaltyWeight >= 0 && double.IsFinite(FeaturePenaltyWeight), nameof(FeaturePenaltyWeight),
            $"FeaturePenaltyWeight must be finite and at least 0, got {FeaturePenaltyWeight}.");
        e.Require(CosineEpsilon > 0 && double.IsFinite(CosineEpsilon), nameof(CosineEpsilon), $"CosineEpsilon must be positive, got {CosineEpsilon}.");
        if (LayerWeights is { } w)
        {
            e.Require(w.Count > 0, nameof(LayerWeights), "LayerWeights is empty; give one weight per predicted layer or null.");
            for (var i = 0; i < w.Count; i++)
                e.Require(double.IsFinite(w[i]) && w[i] >= 0, $"{nameof(LayerWeights)}[{i}]", $"LayerWeights[{i}] must be finite and at least 0, got {w[i]}.");
            e.Require(w.Count == 0 || w.Any(x => x > 0), nameof(LayerWeights), "LayerWeights are all 0.");
        }
        e.ThrowIfAny(nameof(RegressionLossOptions));
    }
}
