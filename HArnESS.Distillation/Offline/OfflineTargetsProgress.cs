namespace HArnESS.Distillation.Offline;

/// <summary>One report of <see cref="OfflineTeacherTargets.Dump"/>, once per shard.</summary>
/// <param name="Shard">Shards done (1-based).</param>
/// <param name="Shards">Shards in all.</param>
/// <param name="Utterances">Utterances done.</param>
/// <param name="TotalUtterances">Utterances in all.</param>
/// <param name="ReusedShards">Shards reused from an earlier run so far.</param>
/// <param name="Message">The same with units, e.g. "offline targets: shard 1/4, 64/230 utterances, 0 reused, 41.2 audio s/s".</param>
public sealed record OfflineTargetsProgress(int Shard, int Shards, int Utterances, int TotalUtterances, int ReusedShards, string Message);
