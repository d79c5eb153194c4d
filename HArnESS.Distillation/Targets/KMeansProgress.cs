namespace HArnESS.Distillation.Targets;

/// <summary>Progress of a k-means fit.</summary>
/// <param name="Phase">The phase.</param>
/// <param name="Step">Steps done in this phase (inits, mini-batch steps, Lloyd iterations).</param>
/// <param name="TotalSteps">The phase's step budget.</param>
/// <param name="Inertia">Latest inertia of the phase as a mean squared distance per frame, on one scale for every
/// phase: the best init's inertia over the validation sample / its frames, the EWA of the mini-batch inertia / batch
/// frames (sklearn's), a Lloyd pass's inertia / all frames, the final inertia / all frames.</param>
/// <param name="Frames">Frames the inertia is averaged over (validation sample, batch, or all frames).</param>
public sealed record KMeansProgress(KMeansPhase Phase, int Step, int TotalSteps, double? Inertia, long Frames);
