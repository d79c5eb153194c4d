namespace HArnESS.Distillation.Targets;

/// <summary>The outcome of <see cref="MiniBatchKMeans"/>: the codebook and how the fit went.</summary>
/// <param name="Codebook">The fitted centres (owned by the caller: dispose it).</param>
/// <param name="Inertia">Sum of squared distances of every frame to its nearest centre (exact full pass when
/// <see cref="KMeansOptions.ComputeInertia"/>, else the EWA estimate × rows, as sklearn).</param>
/// <param name="Rows">Frames the fit saw.</param>
/// <param name="Steps">Mini-batch steps run (sklearn <c>n_steps_</c>).</param>
/// <param name="StoppedEarly">True when early stopping (no improvement or tolerance) ended the mini-batch phase.</param>
/// <param name="InitInertia">Inertia of the best k-means++ initialisation on the validation sample.</param>
/// <param name="LloydIterations">Full-batch Lloyd iterations run after the mini-batch phase.</param>
public sealed record KMeansFit(
    KMeansCodebook Codebook, double Inertia, long Rows, int Steps, bool StoppedEarly, double InitInertia, int LloydIterations)
{
    /// <summary>Mean squared distance per frame (the HuBERT recipe's reported value, <c>-score / n</c>).</summary>
    public double MeanInertia => Inertia / Math.Max(1, Rows);
}
