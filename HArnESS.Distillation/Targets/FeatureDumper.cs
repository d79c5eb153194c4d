using HArnESS.Serialization;
using System.Globalization;
using System.Text;
using System.Text.Json;
using HArnESS.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Dumps frame features of a manifest into shard files a later step streams, as fairseq's
/// <c>dump_{mfcc,hubert}_feature.py</c>: shard <c>rank</c> of <c>n</c> covers a contiguous range of the manifest
/// (<see cref="ShardRange"/>) and is written as <c>{split}_{rank}_{n}.npy</c> (float32 <c>[frames, D]</c>) and
/// <c>.len</c> (frames per utterance, one per line). Memory is bounded by one utterance's features. Files are written
/// under temporary names and renamed when complete, then a <c>{split}_{rank}_{n}.done</c> marker is written; a
/// restarted run skips shards whose marker matches and continues at the next unfinished one.
/// </summary>
public sealed class FeatureDumper
{
    private readonly Manifest _manifest;
    private readonly IUtteranceFeatureReader _reader;

    /// <summary>Creates the dumper.</summary>
    /// <param name="manifest">Utterances to dump.</param>
    /// <param name="reader">Feature computation (MFCC-39 or a teacher layer).</param>
    /// <param name="options">Output folder, split name and sharding.</param>
    public FeatureDumper(Manifest manifest, IUtteranceFeatureReader reader, FeatureDumpOptions options)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Shards > Math.Max(1, manifest.Count))
            throw new HArnessConfigException($"Shards = {options.Shards} exceeds the {manifest.Count} utterances of the manifest.", nameof(options.Shards));
        _manifest = manifest;
        _reader = reader;
        Options = options;
    }

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

    /// <summary>Dumps every requested shard (skipping finished ones) on a worker thread.</summary>
    /// <param name="progress">Reports per utterance and per skipped shard.</param>
    /// <param name="cancellationToken">Stops between utterances; the unfinished shard's temporary files are removed.</param>
    /// <returns>One record per requested shard.</returns>
    /// <exception cref="HArnessDataException">An audio file is missing/unreadable or its features hold NaN (named).</exception>
    public Task<IReadOnlyList<FeatureShardInfo>> RunAsync(IProgress<FeatureDumpProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Run(progress, cancellationToken), cancellationToken);

    /// <summary>Synchronous <see cref="RunAsync"/>.</summary>
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
            progress?.Report(new FeatureDumpProgress(rank, Options.Shards, finished.Utterances, finished.Utterances, finished.Frames, true));
            return finished with { Recomputed = false };
        }
        File.Delete(done);
        long frames = 0;
        var lengths = new List<long>();
        // .npy and .len are each published atomically; the .done marker, written last, is what makes the pair count.
        AtomicFile.Write(npy, fs =>
        {
            NpyFeatureFile.WriteHeader(fs, 0, _reader.Dimension);
            for (var i = start; i < end; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = _manifest.GetFullPath(i);
                using var scope = NewDisposeScope();
                Tensor feats;
                try
                {
                    feats = _reader.Read(path, cancellationToken);
                }
                catch (HArnessException) { throw; }
                catch (OperationCanceledException) { throw; }
                catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
                {
                    throw new HArnessDataException($"Cannot read manifest entry {i} '{path}' for shard {rank}/{Options.Shards}: {ex.Message}", path, ex);
                }
                if (feats.dim() != 2 || feats.shape[1] != _reader.Dimension)
                    throw new HArnessDataException($"Features of '{path}' have shape [{string.Join(", ", feats.shape)}]; expected [frames, {_reader.Dimension}].", path);
                if (FeatureChecks.FirstNonFiniteRow(feats) is var bad and >= 0)
                    throw new HArnessDataException($"Features of manifest entry {i} '{path}' (shard {rank}/{Options.Shards}) hold NaN or infinite values at frame {bad}.", path);
                using var cpu = feats.to(ScalarType.Float32, torch.CPU).contiguous();
                NpyFeatureFile.WriteRows(fs, cpu.data<float>().ToArray());
                lengths.Add(cpu.shape[0]);
                frames += cpu.shape[0];
                progress?.Report(new FeatureDumpProgress(rank, Options.Shards, i - start + 1, end - start, frames, false));
            }
            fs.Position = 0;
            NpyFeatureFile.WriteHeader(fs, frames, _reader.Dimension);
        });
        AtomicFile.WriteAllLines(len, lengths.Select(l => l.ToString(CultureInfo.InvariantCulture)));
        var info = new FeatureShardInfo(rank, Options.Shards, start, end - start, frames, _reader.Dimension, signature, true);
        AtomicFile.WriteAllText(done, JsonSerializer.Serialize(info));
        return info;
    }

    internal static FeatureShardInfo? ReadMarker(string donePath)
    {
        if (!File.Exists(donePath)) return null;
        try { return JsonSerializer.Deserialize<FeatureShardInfo>(File.ReadAllText(donePath)); }
        catch (JsonException) { return null; }
    }

    private string Signature(int start, int end)
    {
        // FNV-1a over the shard's entries, so a changed manifest or feature setting recomputes the shard.
        var hash = 14695981039346656037UL;
        void Mix(string s)
        {
            foreach (var b in Encoding.UTF8.GetBytes(s)) { hash ^= b; hash *= 1099511628211UL; }
        }
        for (var i = start; i < end; i++) Mix($"{_manifest.Entries[i].RelativePath}\t{_manifest.Entries[i].NumSamples}\n");
        return string.Create(CultureInfo.InvariantCulture, $"{_reader.Description}|entries {start}-{end}|{hash:x16}");
    }
}
