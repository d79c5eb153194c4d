namespace HArnESS.Distillation.Targets;

/// <summary>One finished shard of a feature dump (the content of its <c>.done</c> marker).</summary>
/// <param name="Rank">Shard rank.</param>
/// <param name="Shards">Number of shards.</param>
/// <param name="FirstEntry">Manifest index of the shard's first utterance.</param>
/// <param name="Utterances">Utterances in the shard.</param>
/// <param name="Frames">Frames (rows) in the shard.</param>
/// <param name="Dimension">Feature dimension.</param>
/// <param name="Signature">What was computed and from which entries (restarts recompute on a mismatch).</param>
/// <param name="Recomputed">True when this run computed the shard, false when it was already finished.</param>
public sealed record FeatureShardInfo(int Rank, int Shards, int FirstEntry, int Utterances, long Frames, int Dimension, string Signature, bool Recomputed);
