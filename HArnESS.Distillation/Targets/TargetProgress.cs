namespace HArnESS.Distillation.Targets;

/// <summary>Progress of <see cref="TargetBuilder.FitAsync"/>.</summary>
/// <param name="Stage">"dump", "pca", "kmeans", "labels" or "metrics".</param>
/// <param name="Done">Units done in the stage (utterances, k-means steps, …).</param>
/// <param name="Total">Units in the stage.</param>
/// <param name="Detail">A short human-readable note (shard, inertia, …).</param>
public sealed record TargetProgress(string Stage, long Done, long Total, string? Detail);
