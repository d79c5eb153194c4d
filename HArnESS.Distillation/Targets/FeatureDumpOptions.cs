using HArnESS.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Distillation.Targets;

/// <summary>Where and how <see cref="FeatureDumper"/> writes shard files, and how it reads the audio.</summary>
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

    /// <summary>How the audio is read and checked (the one audio path: sample rate, resampling, down-mix, waveform
    /// normalisation, length check against the manifest). Part of the shard signature.</summary>
    public AudioDatasetOptions Audio { get; init; } = AudioDatasetOptions.Default;

    /// <summary>Utterances per padded batch; null (the default) = 16, except 1 for a teacher on the CPU: there a
    /// padded batch of 16 dumped at half the speed of one utterance at a time (a 512-channel CNN's activations
    /// leave the cache), while on a GPU batches are what keeps it busy. Does not change the features.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Padded samples per batch, <c>rows × longest</c> (default 1,600,000 = 100 s at 16 kHz); an utterance
    /// longer than this forms a batch of its own. Does not change the features.</summary>
    public long MaxBatchSamples { get; init; } = 1_600_000;

    /// <summary>Utterances sorted by length together before batches are cut (default 64): less padding, while
    /// memory stays bounded by the features of one such window (they are written in manifest order).</summary>
    public int BucketSize { get; init; } = 64;

    /// <summary>Batches whose audio is read ahead on a background task (0 = read on the caller's thread).</summary>
    public int Prefetch { get; init; } = 1;

    /// <summary>Where the dump logs: each shard started, finished (utterances, frames, audio seconds per second) or reused (information, with its signature), utterances too short for one frame (dropped from the fit, warning) and features with NaN (warning, before the error). Default <see cref="NullLoggerFactory.Instance"/> (nothing is logged).
    /// Not part of any signature.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every value and reports all failures at once.</summary>
    /// <exception cref="HArnessValidationException">A value is out of range; each failure names its option.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        Collect(errors, utterances: null);
        errors.ThrowIfAny(nameof(FeatureDumpOptions));
    }

    /// <summary>Adds every failure to <paramref name="errors"/>; with <paramref name="utterances"/> also checks that
    /// each shard gets at least one utterance.</summary>
    internal void Collect(ValidationErrors errors, int? utterances)
    {
        errors.Require(!string.IsNullOrWhiteSpace(OutputDir), nameof(OutputDir), "OutputDir must be set.");
        errors.Require(!string.IsNullOrWhiteSpace(Split) && Split.IndexOfAny(Path.GetInvalidFileNameChars()) < 0, nameof(Split),
            $"Split must be a file-name-safe word, got '{Split}'.");
        errors.Require(Shards >= 1, nameof(Shards), $"Shards must be at least 1, got {Shards}.");
        if (utterances is { } n && Shards > Math.Max(1, n))
            errors.Add(nameof(Shards), $"Shards = {Shards} exceeds the {n} utterances of the manifest; every shard needs one.");
        if (Ranks is not null)
            foreach (var r in Ranks)
                errors.Require(r >= 0 && r < Shards, nameof(Ranks), $"Rank {r} is outside [0, {Shards}).");
        errors.Require(BatchSize is null or >= 1, nameof(BatchSize), $"BatchSize must be at least 1 (or null), got {BatchSize}.");
        errors.Require(MaxBatchSamples >= 1, nameof(MaxBatchSamples), $"MaxBatchSamples must be positive, got {MaxBatchSamples}.");
        errors.Require(BucketSize >= 1, nameof(BucketSize), $"BucketSize must be at least 1, got {BucketSize}.");
        errors.Require(Prefetch >= 0, nameof(Prefetch), $"Prefetch must be non-negative, got {Prefetch}.");
        errors.Require(LoggerFactory is not null, nameof(LoggerFactory), "LoggerFactory must not be null (use NullLoggerFactory.Instance).");
        if (Audio is null) errors.Add(nameof(Audio), "Audio must be set.");
        else
            try { Audio.Validate(); }
            catch (HArnessConfigException ex) { errors.Add($"{nameof(Audio)}.{ex.OptionName}", ex.Message); }
    }
}
