namespace HArnESS.Distillation.Targets;

/// <summary>The phases of a <see cref="MiniBatchKMeans"/> fit.</summary>
public enum KMeansPhase
{
    /// <summary>k-means++ initialisations (steps: inits).</summary>
    Init,

    /// <summary>Mini-batch updates (steps: mini-batch steps).</summary>
    MiniBatch,

    /// <summary>Full-batch Lloyd refinement (steps: iterations).</summary>
    Lloyd,

    /// <summary>The final pass computing the inertia over every frame (one step).</summary>
    Inertia,
}
