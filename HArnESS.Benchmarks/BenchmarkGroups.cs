namespace HArnESS.Benchmarks;

/// <summary>
/// Named subsets of the suite for the command line: <c>--group quick</c> (or <c>--group features,pca</c>) expands to
/// the BenchmarkDotNet <c>--filter</c> patterns of those classes. <c>scripts/bench/run.py</c> uses the same names.
/// </summary>
public static class BenchmarkGroups
{
    /// <summary>Group name → the filter patterns it stands for.</summary>
    public static IReadOnlyDictionary<string, string[]> Groups { get; } = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["features"] = ["*FeatureBenchmarks*"],
        ["frontends"] = ["*FrontEndBenchmarks*"],
        ["encoder"] = ["*EncoderForwardBenchmarks*"],
        ["kmeans"] = ["*KMeansBenchmarks*"],
        ["pca"] = ["*PcaBenchmarks*"],
        ["onnx"] = ["*OnnxBenchmarks*"],
        ["students"] = ["*StudentBenchmarks*"],
        ["training"] = ["*TrainingBenchmarks*"],
        ["resampling"] = ["*ResamplingBenchmarks*"],
        ["checkpoint"] = ["*CheckpointLoadBenchmarks*"],
        ["loader"] = ["*AudioLoaderBenchmarks*"],
        ["pretraining"] = ["*PretrainingStepBenchmarks*"],
        ["distillation"] = ["*DistillationStepBenchmarks*"],
        ["finetuning"] = ["*FineTuningStepBenchmarks*"],
        ["offline"] = ["*OfflineDistillationBenchmarks*"],
        // One update of each training job at batch 2 × 4 s (the HuBERT-base-shaped ones take seconds per step on a small CPU).
        ["steps"] = ["*PretrainingStepBenchmarks*", "*DistillationStepBenchmarks*", "*FineTuningStepBenchmarks*"],
        // Minutes on 2 cores: the ones the README's under-load rows come from.
        ["quick"] = ["*FeatureBenchmarks*", "*FrontEndBenchmarks*", "*KMeansBenchmarks*", "*PcaBenchmarks*"],
    };

    /// <summary>Replaces every <c>--group a,b</c> pair in <paramref name="args"/> by <c>--filter</c> and the patterns
    /// of groups a and b; other arguments pass through unchanged.</summary>
    /// <exception cref="ArgumentException"><c>--group</c> has no value or names an unknown group (the message lists
    /// the known ones).</exception>
    public static string[] Expand(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] != "--group")
            {
                result.Add(args[i]);
                continue;
            }
            if (i + 1 >= args.Length) throw new ArgumentException("--group needs a value: " + string.Join(", ", Groups.Keys), nameof(args));
            result.Add("--filter");
            foreach (var name in args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                result.AddRange(Groups.TryGetValue(name, out var patterns)
                    ? patterns
                    : throw new ArgumentException($"Unknown benchmark group \"{name}\"; known: {string.Join(", ", Groups.Keys)}.", nameof(args)));
        }
        return [.. result];
    }
}
