using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// The shard files of a <see cref="FeatureDumper"/> run (<c>{split}_{rank}_{n}.npy</c> + <c>.len</c>) streamed as a
/// <see cref="IFeatureSource"/>, optionally on a seeded fraction of the utterances (fairseq <c>learn_kmeans.py</c>'s
/// <c>percent</c>: <c>ceil(count · fraction)</c> utterances per shard drawn without replacement). Only one chunk
/// is in memory at a time.
/// </summary>
public sealed class FeatureShardSource : IFeatureSource
{
    private readonly Shard[] _shards;
    private readonly long _chunkRows;

    /// <summary>Opens the shards and checks they are complete.</summary>
    /// <param name="dir">Folder holding the shard files.</param>
    /// <param name="split">Split name.</param>
    /// <param name="shards">Number of shards n (every rank 0..n-1 must be present).</param>
    /// <param name="fraction">Fraction of utterances per shard to use, in (0, 1].</param>
    /// <param name="seed">Seed of the utterance sample.</param>
    /// <param name="chunkRows">Rows per chunk a pass yields (whole utterances; at least one per chunk).</param>
    /// <exception cref="HArnessDataException">A shard file is missing, truncated, or its lengths disagree (named).</exception>
    /// <exception cref="HArnessConfigException">Bad fraction or counts.</exception>
    public FeatureShardSource(string dir, string split, int shards, double fraction = 1.0, int seed = 0, long chunkRows = 65_536)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (shards < 1) throw new HArnessConfigException($"shards must be at least 1, got {shards}.", nameof(shards));
        if (!(fraction > 0) || fraction > 1) throw new HArnessConfigException($"fraction must be in (0, 1], got {fraction}.", nameof(fraction));
        if (chunkRows < 1) throw new HArnessConfigException($"chunkRows must be positive, got {chunkRows}.", nameof(chunkRows));
        _chunkRows = chunkRows;
        Fraction = fraction;
        var rng = new Random(seed);
        _shards = new Shard[shards];
        for (var rank = 0; rank < shards; rank++)
        {
            var npy = FeatureDumper.ShardPath(dir, split, rank, shards, ".npy");
            var len = FeatureDumper.ShardPath(dir, split, rank, shards, ".len");
            var done = FeatureDumper.ShardPath(dir, split, rank, shards, ".done");
            foreach (var p in new[] { npy, len, done })
                if (!File.Exists(p))
                    throw new HArnessDataException($"Feature shard {rank} of {shards} is missing: '{p}' does not exist (dump it first, or the dump did not finish).", p);
            var (rows, dim, offset) = NpyFeatureFile.ReadHeader(npy);
            var lengths = NpyFeatureFile.ReadLengths(len, npy, rows);
            if (rank > 0 && dim != _shards[0].Dim)
                throw new HArnessDataException($"'{npy}' has dimension {dim} but shard 0 has {_shards[0].Dim}.", npy);
            var marker = FeatureDumper.ReadMarker(done);
            var offsets = new long[lengths.Length];
            for (var i = 1; i < lengths.Length; i++) offsets[i] = offsets[i - 1] + lengths[i - 1];
            var selected = SelectUtterances(lengths.Length, fraction, rng);
            _shards[rank] = new Shard(rank, npy, dim, offset, lengths, offsets, selected, marker?.FirstEntry ?? -1);
        }
        Dimension = _shards[0].Dim;
        Rows = _shards.Sum(s => s.Selected.Sum(i => s.Lengths[i]));
        Utterances = _shards.Sum(s => s.Lengths.Length);
    }

    /// <summary>The utterances of one shard a fit uses: all of them, or <c>ceil(count · fraction)</c> drawn without
    /// replacement (partial Fisher–Yates on <paramref name="rng"/>, shared across shards in rank order), sorted.</summary>
    internal static int[] SelectUtterances(int count, double fraction, Random rng)
    {
        var selected = Enumerable.Range(0, count).ToArray();
        if (fraction >= 1) return selected;
        var take = (int)Math.Ceiling(count * fraction);
        for (var i = 0; i < take; i++)
        {
            var j = i + rng.Next(count - i);
            (selected[i], selected[j]) = (selected[j], selected[i]);
        }
        selected = selected[..take];
        Array.Sort(selected);
        return selected;
    }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <summary>Rows of the selected utterances.</summary>
    public long Rows { get; }

    /// <summary>Utterances in all shards (before the fraction).</summary>
    public int Utterances { get; }

    /// <summary>Fraction of utterances used by <see cref="ReadChunks"/>.</summary>
    public double Fraction { get; }

    /// <inheritdoc/>
    public IEnumerable<Tensor> ReadChunks(CancellationToken cancellationToken = default)
    {
        var buffer = new List<float[]>();
        long rows = 0;
        foreach (var (_, data, frames) in Read(selectedOnly: true, cancellationToken))
        {
            buffer.Add(data);
            rows += frames;
            if (rows < _chunkRows) continue;
            yield return Concat(buffer, rows);
            buffer.Clear();
            rows = 0;
        }
        if (rows > 0) yield return Concat(buffer, rows);
    }

    /// <summary>Every utterance (ignoring the fraction) in manifest order, as float32 <c>[frames, D]</c> on the CPU
    /// with its index among all shards' utterances. The caller disposes the tensors.</summary>
    public IEnumerable<(int Utterance, Tensor Features)> ReadUtterances(CancellationToken cancellationToken = default)
    {
        var index = 0;
        foreach (var (_, data, frames) in Read(selectedOnly: false, cancellationToken))
            yield return (index++, torch.tensor(data, [frames, Dimension]));
    }

    private Tensor Concat(List<float[]> parts, long rows)
    {
        var all = new float[rows * Dimension];
        long at = 0;
        foreach (var p in parts) { p.CopyTo(all, at); at += p.LongLength; }
        return torch.tensor(all, [rows, Dimension]);
    }

    private IEnumerable<(int Utterance, float[] Data, long Frames)> Read(bool selectedOnly, CancellationToken ct)
    {
        foreach (var s in _shards)
        {
            using var fs = new FileStream(s.Npy, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var which = selectedOnly ? s.Selected : Enumerable.Range(0, s.Lengths.Length).ToArray();
            foreach (var u in which)
            {
                ct.ThrowIfCancellationRequested();
                var frames = s.Lengths[u];
                var data = new float[frames * s.Dim];
                fs.Position = s.DataOffset + s.Offsets[u] * s.Dim * 4L;
                fs.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
                for (long k = 0; k < data.LongLength; k++)
                {
                    if (float.IsFinite(data[k])) continue;
                    var entry = s.FirstEntry >= 0 ? string.Create(CultureInfo.InvariantCulture, $" (manifest entry {s.FirstEntry + u})") : "";
                    throw new HArnessDataException(
                        $"'{s.Npy}': utterance {u} of shard {s.Rank}{entry} holds NaN or infinite values at frame {k / s.Dim}.", s.Npy);
                }
                yield return (u, data, frames);
            }
        }
    }

    private sealed record Shard(int Rank, string Npy, int Dim, long DataOffset, long[] Lengths, long[] Offsets, int[] Selected, int FirstEntry);
}
