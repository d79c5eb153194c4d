namespace HArnESS.Data;

/// <summary>How <see cref="AudioLoader"/> forms batches. Sizes are in samples at the dataset's rate.</summary>
public sealed record AudioLoaderOptions
{
    /// <summary>The defaults: 8 utterances per batch, shuffled with seed 1, bucketed by length, one batch prefetched.</summary>
    public static AudioLoaderOptions Default { get; } = new();

    /// <summary>Largest number of utterances in a batch, or null for no limit (then <see cref="MaxTokens"/> must be set).</summary>
    public int? BatchSize { get; init; } = 8;

    /// <summary>Largest padded batch in samples, <c>batch × longest (cropped) length</c> (fairseq's <c>max_tokens</c>), or null for no limit.</summary>
    public long? MaxTokens { get; init; }

    /// <summary>Longest utterance in samples (fairseq's <c>max_sample_size</c>); longer ones are cropped or dropped as <see cref="Crop"/> says. Null: no limit.</summary>
    public long? MaxSampleSize { get; init; }

    /// <summary>What happens to utterances longer than <see cref="MaxSampleSize"/>.</summary>
    public CropMode Crop { get; init; } = CropMode.Random;

    /// <summary>Utterances shorter than this many samples are left out (counted in <see cref="AudioLoader.Dropped"/>).</summary>
    public long MinSampleSize { get; init; }

    /// <summary>Shuffle the utterances every epoch (seeded by <see cref="Seed"/> and the epoch, so repeatable).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of shuffling and random crops; every rank of a sharded run must use the same seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Group utterances of similar length so batches carry little padding: utterances are sorted by length within
    /// buckets of <see cref="BucketSize"/> (after shuffling), batches are cut from the sorted buckets, and the batch
    /// order is shuffled again. Without it batches follow the (shuffled) manifest order.
    /// </summary>
    public bool BucketByLength { get; init; } = true;

    /// <summary>Utterances per bucket, or null for one bucket holding the whole shard (fairseq's global sort by size).</summary>
    public int? BucketSize { get; init; }

    /// <summary>This process's shard, in [0, <see cref="WorldSize"/>).</summary>
    public int Rank { get; init; }

    /// <summary>Number of shards; the shards of one epoch are disjoint and together hold every kept utterance.</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>Batches read ahead on a background task (0: read on the caller's thread). At most this many wait besides the one the caller holds.</summary>
    public int Prefetch { get; init; } = 1;

    /// <summary>Skip missing or unreadable files and report them (<see cref="AudioLoader.Dropped"/>, <see cref="AudioLoader.ItemDropped"/>) instead of stopping with the error.</summary>
    public bool SkipUnreadable { get; init; }

    /// <summary>Checks the values.</summary>
    /// <exception cref="HArnessConfigException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (BatchSize is null && MaxTokens is null)
            throw new HArnessConfigException("Set BatchSize or MaxTokens (or both); with neither a batch would hold the whole corpus.", nameof(BatchSize));
        if (BatchSize is <= 0)
            throw new HArnessConfigException($"BatchSize must be positive, got {BatchSize}.", nameof(BatchSize));
        if (MaxTokens is <= 0)
            throw new HArnessConfigException($"MaxTokens must be positive, got {MaxTokens}.", nameof(MaxTokens));
        if (MaxSampleSize is <= 0)
            throw new HArnessConfigException($"MaxSampleSize must be positive, got {MaxSampleSize}.", nameof(MaxSampleSize));
        if (MaxTokens is { } t && MaxSampleSize is { } m && m > t)
            throw new HArnessConfigException($"MaxSampleSize ({m}) must not exceed MaxTokens ({t}): a cropped utterance would not fit a batch.", nameof(MaxSampleSize));
        if (MinSampleSize < 0)
            throw new HArnessConfigException($"MinSampleSize must be non-negative, got {MinSampleSize}.", nameof(MinSampleSize));
        if (MaxSampleSize is { } max && MinSampleSize > max)
            throw new HArnessConfigException($"MinSampleSize ({MinSampleSize}) exceeds MaxSampleSize ({max}).", nameof(MinSampleSize));
        if (BucketSize is <= 0)
            throw new HArnessConfigException($"BucketSize must be positive, got {BucketSize}.", nameof(BucketSize));
        if (WorldSize <= 0)
            throw new HArnessConfigException($"WorldSize must be positive, got {WorldSize}.", nameof(WorldSize));
        if (Rank < 0 || Rank >= WorldSize)
            throw new HArnessConfigException($"Rank must be in [0, {WorldSize}), got {Rank}.", nameof(Rank));
        if (Prefetch < 0)
            throw new HArnessConfigException($"Prefetch must be non-negative, got {Prefetch}.", nameof(Prefetch));
    }
}
