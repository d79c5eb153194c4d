using System.Globalization;

namespace HArnESS.Distillation.Targets;

/// <summary>Progress of a feature dump, reported once per batch written and once per shard found finished.</summary>
/// <param name="Rank">Shard being written.</param>
/// <param name="Shards">Number of shards.</param>
/// <param name="Utterance">Utterances whose features this run has computed in this shard (rows are written in
/// manifest order as soon as every earlier one is).</param>
/// <param name="UtterancesInShard">Utterances in this shard.</param>
/// <param name="Frames">Frames written to this shard so far (all of them once it is finished).</param>
/// <param name="SkippedFinishedShard">True when the shard was already finished (a restart) and was not recomputed.</param>
/// <param name="AudioSeconds">Seconds of audio this shard has dumped so far in this run.</param>
/// <param name="Elapsed">Time this shard has taken so far in this run.</param>
public sealed record FeatureDumpProgress(
    int Rank, int Shards, int Utterance, int UtterancesInShard, long Frames, bool SkippedFinishedShard, double AudioSeconds = 0, TimeSpan Elapsed = default)
{
    /// <summary>Dump throughput: seconds of audio per second of wall time (0 before anything was timed).</summary>
    public double AudioSecondsPerSecond => Elapsed > TimeSpan.Zero ? AudioSeconds / Elapsed.TotalSeconds : 0;

    /// <summary>One line with units: <c>"shard 1/4: 40/160 utterances, 2,000 frames, 12.3 audio s/s"</c>
    /// (shards counted from 1).</summary>
    public override string ToString() => SkippedFinishedShard
        ? string.Create(CultureInfo.InvariantCulture, $"shard {Rank + 1}/{Shards}: finished before, {UtterancesInShard} utterances, {Frames:N0} frames reused")
        : string.Create(CultureInfo.InvariantCulture,
            $"shard {Rank + 1}/{Shards}: {Utterance}/{UtterancesInShard} utterances, {AudioSeconds:F1} s of audio, {AudioSecondsPerSecond:F1} audio s/s");
}
