namespace HArnESS.Distillation.Targets;

/// <summary>Where and how <see cref="FeatureDumper"/> writes shard files.</summary>
public sealed record FeatureDumpOptions
{
    /// <summary>Folder for <c>{split}_{rank}_{shards}.npy</c> / <c>.len</c> / <c>.done</c>.</summary>
    public required string OutputDir { get; init; }

    /// <summary>Split name used in file names (fairseq's <c>split</c>, e.g. "train").</summary>
    public string Split { get; init; } = "train";

    /// <summary>Number of shards the manifest is cut into (contiguous ranges, as fairseq's <c>get_shard_range</c>).</summary>
    public int Shards { get; init; } = 1;

    /// <summary>The shard ranks this process dumps; null = all of them, in order.</summary>
    public IReadOnlyList<int>? Ranks { get; init; }

    /// <summary>Throws <see cref="HArnessConfigException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDir)) throw new HArnessConfigException("OutputDir must be set.", nameof(OutputDir));
        if (string.IsNullOrWhiteSpace(Split) || Split.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new HArnessConfigException($"Split must be a file-name-safe word, got '{Split}'.", nameof(Split));
        if (Shards < 1) throw new HArnessConfigException($"Shards must be at least 1, got {Shards}.", nameof(Shards));
        if (Ranks is not null)
            foreach (var r in Ranks)
                if (r < 0 || r >= Shards) throw new HArnessConfigException($"Rank {r} is outside [0, {Shards}).", nameof(Ranks));
    }
}
