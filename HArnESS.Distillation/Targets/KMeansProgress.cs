namespace HArnESS.Distillation.Targets;

/// <summary>Progress of a k-means fit.</summary>
/// <param name="Phase">"init", "minibatch", "lloyd" or "inertia".</param>
/// <param name="Step">Steps done in this phase (inits, mini-batch steps, Lloyd iterations).</param>
/// <param name="TotalSteps">The phase's step budget.</param>
/// <param name="Inertia">Latest inertia of the phase (best init inertia, EWA of the mean batch inertia, or the
/// Lloyd pass inertia), when known.</param>
public sealed record KMeansProgress(string Phase, int Step, int TotalSteps, double? Inertia);
