namespace HArnESS.Distillation.Targets;

/// <summary>Progress of a feature dump.</summary>
/// <param name="Rank">Shard being written.</param>
/// <param name="Shards">Number of shards.</param>
/// <param name="Utterance">Utterances done in this shard.</param>
/// <param name="UtterancesInShard">Utterances in this shard.</param>
/// <param name="Frames">Frames written to this shard so far.</param>
/// <param name="SkippedFinishedShard">True when the shard was already finished (a restart) and was not recomputed.</param>
public sealed record FeatureDumpProgress(int Rank, int Shards, int Utterance, int UtterancesInShard, long Frames, bool SkippedFinishedShard);
