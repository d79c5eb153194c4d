using HArnESS.Serialization;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HArnESS.Data;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Dumps frame features of a manifest into shard files a later step streams, as fairseq's
/// <c>dump_{mfcc,hubert}_feature.py</c>: shard <c>rank</c> of <c>n</c> covers a contiguous range of the manifest
/// (<see cref="ShardRange"/>), its audio is read through <see cref="AudioLoader"/> in padded batches, and it is written as <c>{split}_{rank}_{n}.npy</c> (float32 <c>[frames, D]</c>) and
/// <c>.len</c> (frames per utterance, one per line). Memory is bounded by the features of one length bucket (<see cref="FeatureDumpOptions.BucketSize"/>). Files are written
/// under temporary names and renamed when complete, then a <c>{split}_{rank}_{n}.done</c> marker is written; a
/// restarted run skips shards whose marker matches and continues at the next unfinished one.
/// </summary>
public sealed class FeatureDumper
{
    private readonly Manifest _manifest;
    private readonly IUtteranceFeatureReader _reader;
    private readonly AudioDataset _dataset;

    /// <summary>Creates the dumper.</summary>
    /// <param name="manifest">Utterances to dump.</param>
    /// <param name="reader">Feature computation (MFCC-39 or a teacher layer).</param>
    /// <param name="options">Output folder, split name, sharding and how the audio is read.</param>
    /// <exception cref="HArnessValidationException">Options are invalid, or there are more shards than utterances (all failures at once).</exception>
    public FeatureDumper(Manifest manifest, IUtteranceFeatureReader reader, FeatureDumpOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(options);
        var errors = new ValidationErrors();
        options.Collect(errors, manifest.Count);
        errors.ThrowIfAny(nameof(FeatureDumpOptions));
        _manifest = manifest;
        _reader = reader;
        Options = options;
        _dataset = new AudioDataset(manifest, options.Audio);
        _log = options.LoggerFactory.CreateLogger(typeof(FeatureDumper).FullName!);
    }

    private readonly ILogger _log;

    /// <summary>Entry <paramref name="index"/> as messages name it: its index and, for a loaded manifest, its line.</summary>
    private string Entry(int index) => _manifest.LineOf(index) is { } line
        ? string.Create(CultureInfo.InvariantCulture, $"manifest entry {index} (line {line} of '{_manifest.SourcePath}')")
        : string.Create(CultureInfo.InvariantCulture, $"manifest entry {index}");

    /// <summary>The dump settings.</summary>
    public FeatureDumpOptions Options { get; }

    /// <summary>fairseq's <c>get_shard_range</c>: <c>[round(n/k·rank), round(n/k·(rank+1)))</c> with Python's rounding.</summary>
    public static (int Start, int End) ShardRange(int count, int rank, int shards)
    {
        if (shards < 1 || rank < 0 || rank >= shards)
            throw new HArnessConfigException($"rank {rank} of {shards} shards is out of range.", nameof(rank));
        var start = (int)Math.Round((double)count / shards * rank, MidpointRounding.ToEven);
        var end = (int)Math.Round((double)count / shards * (rank + 1), MidpointRounding.ToEven);
        return (start, end);
    }

    /// <summary>Path of a shard file: <c>{dir}/{split}_{rank}_{shards}{extension}</c>.</summary>
    public static string ShardPath(string dir, string split, int rank, int shards, string extension) =>
        Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"{split}_{rank}_{shards}{extension}"));

    /// <summary>Dumps every requested shard (skipping finished ones) on the calling thread.</summary>
    /// <param name="progress">Reports once per batch written and once per finished shard skipped.</param>
    /// <param name="cancellationToken">Stops between batches; the unfinished shard's temporary files are removed.</param>
    /// <returns>One record per requested shard.</returns>
    /// <exception cref="HArnessDataException">An audio file is missing or unreadable (named with its manifest line) or
    /// its features hold NaN (named).</exception>
    public IReadOnlyList<FeatureShardInfo> Run(IProgress<FeatureDumpProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Options.OutputDir);
        var ranks = Options.Ranks ?? Enumerable.Range(0, Options.Shards).ToArray();
        var result = new List<FeatureShardInfo>();
        foreach (var rank in ranks) result.Add(DumpShard(rank, progress, cancellationToken));
        return result;
    }

    /// <summary>Dumps one shard unless its marker says it is finished with the same signature.</summary>
    public FeatureShardInfo DumpShard(int rank, IProgress<FeatureDumpProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (start, end) = ShardRange(_manifest.Count, rank, Options.Shards);
        var signature = Signature(start, end);
        var dir = Options.OutputDir;
        var npy = ShardPath(dir, Options.Split, rank, Options.Shards, ".npy");
        var len = ShardPath(dir, Options.Split, rank, Options.Shards, ".len");
        var done = ShardPath(dir, Options.Split, rank, Options.Shards, ".done");
        if (ReadMarker(done) is { } finished && finished.Signature == signature && File.Exists(npy) && File.Exists(len))
        {
            _log.LogInformation("dump: shard {Rank}/{Shards} reused (finished before, same signature {Signature}): {Utterances} utterances, {Frames} frames in '{Path}'",
                rank, Options.Shards, signature, finished.Utterances, finished.Frames, npy);
            progress?.Report(new FeatureDumpProgress(rank, Options.Shards, finished.Utterances, finished.Utterances, finished.Frames, true));
            return finished with { Recomputed = false };
        }
        if (File.Exists(done))
            _log.LogInformation("dump: shard {Rank}/{Shards} was dumped with another signature; dumping it again", rank, Options.Shards);
        File.Delete(done);
        _log.LogInformation("dump: shard {Rank}/{Shards} started: {Utterances} utterances ({First}-{Last} of '{Manifest}') with {Reader}, signature {Signature}",
            rank, Options.Shards, end - start, start, end - 1, _manifest.SourcePath ?? "(in memory)", _reader.Description, signature);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long frames = 0;
        double audioSeconds = 0;
        var lengths = new List<long>();
        var entries = Enumerable.Range(start, end - start).ToArray();
        var longest = entries.Length == 0 ? 1 : entries.Max(i => _manifest.Entries[i].NumSamples);
        var loader = new AudioLoader(_dataset, new AudioLoaderOptions
        {
            BatchSize = Options.BatchSize ?? (_reader is TeacherLayerFeatureReader { Device.type: DeviceType.CPU } ? 1 : 16),
            MaxTokens = Math.Max(Options.MaxBatchSamples, Math.Max(1, longest)),
            Shuffle = false,
            BucketByLength = true,
            BucketSize = Options.BucketSize,
            Prefetch = Options.Prefetch,
        }, entries: entries);
        var rate = (double)Options.Audio.SampleRate;
        // .npy and .len are each published atomically; the .done marker, written last, is what makes the pair count.
        AtomicFile.Write(npy, fs =>
        {
            NpyFeatureFile.WriteHeader(fs, 0, _reader.Dimension);
            // Batches come bucket by bucket in manifest order; rows are written as soon as every earlier one is.
            var pending = new Dictionary<int, Tensor>();
            var next = start;
            var computed = 0;
            try
            {
                foreach (var batch in loader)
                {
                    using var scope = NewDisposeScope();
                    using (batch)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var feats = _reader.Read(batch, cancellationToken);
                        if (feats.Count != batch.Count)
                            throw new HArnessDataException($"The feature reader '{_reader.Description}' gave {feats.Count} results for a batch of {batch.Count}.");
                        for (var r = 0; r < batch.Count; r++)
                        {
                            var i = batch.Indices[r];
                            var path = batch.Paths[r];
                            var f = feats[r];
                            if (f.dim() != 2 || f.shape[1] != _reader.Dimension)
                                throw new HArnessDataException($"Features of manifest entry {i} '{path}' have shape [{string.Join(", ", f.shape)}]; expected [frames, {_reader.Dimension}].", path);
                            if (FeatureChecks.FirstNonFiniteRow(f) is var bad and >= 0)
                            {
                                _log.LogWarning("dump: features of {Entry} '{Path}' hold NaN or infinite values at frame {Frame}; shard {Rank}/{Shards} refused", Entry(i), path, bad, rank, Options.Shards);
                                throw new HArnessDataException($"Features of {Entry(i)} '{path}' (shard {rank}/{Options.Shards}) hold NaN or infinite values at frame {bad}.", path);
                            }
                            if (f.shape[0] == 0)
                                _log.LogWarning("dump: {Entry} '{Path}' ({Samples} samples) is too short for one frame: it adds no frames to the fit and gets an empty label line",
                                    Entry(i), path, batch.LengthsArray[r]);
                            pending[i] = f.to(ScalarType.Float32, CPU).contiguous().MoveToOuterDisposeScope();
                            audioSeconds += batch.LengthsArray[r] / rate;
                        }
                        computed += batch.Count;
                    }
                    while (pending.Remove(next, out var ready))
                    {
                        using (ready)
                        {
                            // An utterance too short for a frame has no rows (TorchSharp's ToArray refuses an empty tensor).
                            if (ready.numel() > 0) NpyFeatureFile.WriteRows(fs, ready.data<float>().ToArray());
                            lengths.Add(ready.shape[0]);
                            frames += ready.shape[0];
                        }
                        next++;
                    }
                    progress?.Report(new FeatureDumpProgress(rank, Options.Shards, computed, end - start, frames, false, audioSeconds, clock.Elapsed));
                }
            }
            finally
            {
                foreach (var t in pending.Values) t.Dispose();
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (next != end)
                throw new HArnessDataException($"Shard {rank}/{Options.Shards} of '{_manifest.SourcePath ?? "(in memory)"}' got features for {next - start} of its {end - start} utterances.");
            fs.Position = 0;
            NpyFeatureFile.WriteHeader(fs, frames, _reader.Dimension);
        });
        AtomicFile.WriteAllLines(len, lengths.Select(l => l.ToString(CultureInfo.InvariantCulture)));
        var info = new FeatureShardInfo(rank, Options.Shards, start, end - start, frames, _reader.Dimension, signature, true);
        AtomicFile.WriteAllText(done, JsonSerializer.Serialize(info));
        _log.LogInformation("dump: shard {Rank}/{Shards} finished: {Utterances} utterances, {Frames} frames x {Dimension} dims, {AudioSeconds:F1} audio s in {Seconds:F1} s ({Throughput:F1} audio s/s) → '{Path}'",
            rank, Options.Shards, end - start, frames, _reader.Dimension, audioSeconds, clock.Elapsed.TotalSeconds,
            audioSeconds / Math.Max(1e-9, clock.Elapsed.TotalSeconds), npy);
        return info;
    }

    internal static FeatureShardInfo? ReadMarker(string donePath)
    {
        if (!File.Exists(donePath)) return null;
        try { return JsonSerializer.Deserialize<FeatureShardInfo>(File.ReadAllText(donePath)); }
        catch (JsonException) { return null; }
    }

    /// <summary>What a shard's content depends on: the reader (kind, options, weights), how the audio is read, and
    /// the shard's entries with their sample counts.</summary>
    internal string Signature(int start, int end)
    {
        var a = Options.Audio;
        var audio = string.Create(CultureInfo.InvariantCulture,
            $"audio(rate={a.SampleRate},resample={a.Resample},mono={a.DownmixToMono},normalize={a.Normalize})");
        var entries = new StringBuilder();
        for (var i = start; i < end; i++) entries.Append(CultureInfo.InvariantCulture, $"{_manifest.Entries[i].RelativePath}\t{_manifest.Entries[i].NumSamples}\n");
        return string.Create(CultureInfo.InvariantCulture, $"{_reader.Description}|{audio}|entries {start}-{end}|{StageSignature.Hash(entries.ToString())}");
    }
}
