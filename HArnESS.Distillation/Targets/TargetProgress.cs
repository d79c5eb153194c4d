namespace HArnESS.Distillation.Targets;

/// <summary>Progress of <see cref="TargetBuilder.FitAsync"/>, reported once per meaningful step (a dump batch, a
/// k-means++ init, every 50 mini-batch steps, a finished stage); no two reports of a run carry the same message.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Done">Units done in the stage.</param>
/// <param name="Total">Units in the stage.</param>
/// <param name="Unit">What <paramref name="Done"/> and <paramref name="Total"/> count ("utterances", "inits", "steps", "frames").</param>
/// <param name="Message">One line with its units, starting with the stage, e.g.
/// <c>"dump: shard 1/4: 40/160 utterances, 2,000 frames, 12.3 audio s/s"</c>. k-means inertias in it are always the
/// mean squared distance per frame.</param>
/// <param name="Reused">True when the stage was finished by an earlier run with the same signature and was not recomputed.</param>
public sealed record TargetProgress(TargetStage Stage, long Done, long Total, string Unit, string Message, bool Reused = false)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}
