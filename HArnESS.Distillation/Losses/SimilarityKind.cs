namespace HArnESS.Distillation.Losses;

/// <summary>The per-frame cosine part of a regression loss, averaged over the valid frames.</summary>
public enum SimilarityKind
{
    /// <summary>No cosine term.</summary>
    None,

    /// <summary><c>−log σ(cos(p, y))</c> (DistilHuBERT, s3prl <c>cosine_loss</c>).</summary>
    NegLogSigmoidCosine,

    /// <summary><c>1 − cos(p, y)</c>.</summary>
    OneMinusCosine,
}
