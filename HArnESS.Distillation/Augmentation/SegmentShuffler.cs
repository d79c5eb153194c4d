using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Augmentation;

/// <summary>DistilXLSR's segment shuffling: an utterance is cut into segments (from an alignment, or by
/// <see cref="EnergySegmenter"/> without one), the segments are put in a seeded random order (Fisher–Yates over
/// <see cref="System.Random"/>(seed), so one seed gives one order on every machine) and joined with short linear
/// cross-fades. The output has exactly the input's length. Give the teacher and the student the same shuffled audio.
/// <para>The cross-fade at a junction J between segment A (ending at source sample a) and segment B (starting at b)
/// spans <c>[J − h, J + h)</c> with <c>h = ⌊F/2⌋</c>, F = <see cref="SegmentShuffleOptions.CrossFadeSeconds"/> in
/// samples, h at most half of either neighbour. There, with <c>k = t − J</c> and <c>w = (k + h + ½) / 2h</c>,
/// <c>out[t] = (1 − w)·x[a + k] + w·x[b + k]</c>: A runs on past its end into its own source continuation while B
/// fades in from its own source run-up (indices outside the audio are mirrored at its ends). Segments that were
/// neighbours in the source join without change; every other sample is moved, not altered.</para></summary>
public static class SegmentShuffler
{
    /// <summary>Shuffles given segments of one waveform.</summary>
    /// <param name="audio">The samples.</param>
    /// <param name="segments">Segments to shuffle. They need not cover the audio: the uncovered stretches (before,
    /// between, after) become segments of their own, so everything is shuffled and nothing lost.</param>
    /// <param name="seed">Seed of the order.</param>
    /// <param name="options">Cross-fade and sample rate; <c>null</c> = defaults.</param>
    /// <returns>A new array of the same length.</returns>
    /// <exception cref="ArgumentException">A segment is empty, outside the audio, or overlaps another.</exception>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public static float[] Shuffle(ReadOnlySpan<float> audio, IReadOnlyList<SampleSegment> segments, int seed, SegmentShuffleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var o = options ?? new SegmentShuffleOptions();
        o.Validate();
        var tiles = Tile(audio.Length, segments);
        var order = Order(tiles.Count, seed);
        return Join(audio, order.Select(i => tiles[i]).ToArray(), o.Samples(o.CrossFadeSeconds));
    }

    /// <summary>Shuffles the aligned segments of one utterance (times from an <see cref="AlignmentFile"/>).</summary>
    /// <param name="audio">The utterance's samples at <see cref="SegmentShuffleOptions.SampleRate"/>.</param>
    /// <param name="alignment">Its segments in seconds; clipped to the audio.</param>
    /// <param name="seed">Seed of the order.</param>
    /// <param name="options">Cross-fade and sample rate; <c>null</c> = defaults.</param>
    /// <param name="utteranceId">The utterance's name, for messages.</param>
    /// <returns>A new array of the same length.</returns>
    /// <exception cref="HArnessDataException">The alignment runs past the end of the audio by more than
    /// <see cref="SegmentShuffleOptions.AlignmentToleranceSeconds"/> (it belongs to other audio or another rate).</exception>
    public static float[] Shuffle(ReadOnlySpan<float> audio, IReadOnlyList<AlignedSegment> alignment, int seed, SegmentShuffleOptions? options = null,
        string? utteranceId = null)
    {
        var o = options ?? new SegmentShuffleOptions();
        o.Validate();
        return Shuffle(audio, ToSamples(audio.Length, alignment, o, utteranceId), seed, o);
    }

    /// <summary>Shuffles one waveform segmented by <see cref="EnergySegmenter"/>.</summary>
    /// <param name="audio">The samples.</param>
    /// <param name="seed">Seed of the order.</param>
    /// <param name="options">Segment lengths, cross-fade, sample rate; <c>null</c> = defaults.</param>
    /// <returns>A new array of the same length.</returns>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public static float[] Shuffle(ReadOnlySpan<float> audio, int seed, SegmentShuffleOptions? options = null)
    {
        var o = options ?? new SegmentShuffleOptions();
        return Shuffle(audio, EnergySegmenter.Segment(audio, o), seed, o);
    }

    /// <summary>Shuffles a waveform tensor <c>[time]</c> or a padded batch <c>[batch, time]</c>; only the first
    /// <c>lengths[b]</c> samples of each row are shuffled, padding stays where it is. Row b uses the seed
    /// <c>seed + b</c> (wrapping), so a batch is as reproducible as a single utterance.</summary>
    /// <param name="waveforms">Float32 <c>[time]</c> or <c>[batch, time]</c>, on any device (processed on the CPU).</param>
    /// <param name="seed">Seed of the orders.</param>
    /// <param name="lengths">Valid samples per row <c>[batch]</c>; <c>null</c> = full rows.</param>
    /// <param name="alignments">Per row, its aligned segments in seconds, or <c>null</c> for the energy segmenter;
    /// <c>null</c> = the energy segmenter for every row.</param>
    /// <param name="options">Options; <c>null</c> = defaults.</param>
    /// <returns>A new tensor of the input's shape, dtype and device.</returns>
    /// <exception cref="ArgumentException">The tensor is not 1-D/2-D, or lengths/alignments do not match the batch.</exception>
    /// <exception cref="HArnessDataException">An alignment runs past its row's audio.</exception>
    public static Tensor Shuffle(Tensor waveforms, int seed, Tensor? lengths = null, IReadOnlyList<IReadOnlyList<AlignedSegment>?>? alignments = null,
        SegmentShuffleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        if (waveforms.dim() is not (1 or 2))
            throw new ArgumentException($"Waveforms must be [time] or [batch, time], got [{string.Join(", ", waveforms.shape)}].", nameof(waveforms));
        var o = options ?? new SegmentShuffleOptions();
        o.Validate();
        var single = waveforms.dim() == 1;
        var b = single ? 1 : (int)waveforms.shape[0];
        var t = (int)waveforms.shape[^1];
        long[] lens;
        if (lengths is null) lens = Enumerable.Repeat((long)t, b).ToArray();
        else
        {
            if (lengths.dim() != 1 || lengths.shape[0] != b)
                throw new ArgumentException($"Lengths must be [{b}], got [{string.Join(", ", lengths.shape)}].", nameof(lengths));
            using var l64 = lengths.to(ScalarType.Int64).cpu();
            lens = l64.data<long>().ToArray();
            if (lens.Any(v => v < 0 || v > t))
                throw new ArgumentException($"Lengths must lie in [0, {t}], got [{string.Join(", ", lens)}].", nameof(lengths));
        }
        if (alignments is not null && alignments.Count != b)
            throw new ArgumentException($"{alignments.Count} alignments for {b} rows.", nameof(alignments));
        using var cpu = waveforms.detach().to(ScalarType.Float32).cpu().contiguous();
        var data = cpu.data<float>().ToArray();
        for (var r = 0; r < b; r++)
        {
            var len = (int)lens[r];
            var row = new ReadOnlySpan<float>(data, r * t, len);
            var rowSeed = unchecked(seed + r);
            var shuffled = alignments?[r] is { } al
                ? Shuffle(row, al, rowSeed, o, $"row {r}")
                : Shuffle(row, rowSeed, o);
            shuffled.CopyTo(data, r * t);
        }
        using var result = single ? tensor(data, [t]) : tensor(data, [b, t]);
        return result.to(waveforms.dtype, waveforms.device);
    }

    /// <summary>Turns aligned seconds into sample segments clipped to the audio.</summary>
    internal static IReadOnlyList<SampleSegment> ToSamples(int n, IReadOnlyList<AlignedSegment> alignment, SegmentShuffleOptions o, string? utteranceId)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        var duration = (double)n / o.SampleRate;
        var list = new List<SampleSegment>();
        foreach (var s in alignment)
        {
            if (s.EndSeconds > duration + o.AlignmentToleranceSeconds)
                throw new HArnessDataException(
                    $"The alignment of {(utteranceId is null ? "the utterance" : $"'{utteranceId}'")} runs to {s.EndSeconds.ToString(CultureInfo.InvariantCulture)} s " +
                    $"but its audio lasts {duration.ToString("0.###", CultureInfo.InvariantCulture)} s (at {o.SampleRate} Hz): it belongs to other audio or another rate.");
            var a = Math.Clamp((int)Math.Round(s.StartSeconds * o.SampleRate), 0, n);
            var e = Math.Clamp((int)Math.Round(s.EndSeconds * o.SampleRate), 0, n);
            if (e > a) list.Add(new SampleSegment(a, e - a));
        }
        // rounding can make neighbours touch or overlap by a sample: trim each start to the previous end
        list.Sort((x, y) => x.Start.CompareTo(y.Start));
        var trimmed = new List<SampleSegment>();
        var prevEnd = 0;
        foreach (var s in list)
        {
            var start = Math.Max(s.Start, prevEnd);
            if (s.End > start) trimmed.Add(new SampleSegment(start, s.End - start));
            prevEnd = Math.Max(prevEnd, s.End);
        }
        return trimmed;
    }

    private static List<SampleSegment> Tile(int n, IReadOnlyList<SampleSegment> segments)
    {
        var sorted = segments.OrderBy(s => s.Start).ToArray();
        var tiles = new List<SampleSegment>();
        var pos = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            var s = sorted[i];
            if (s.Length <= 0 || s.Start < 0 || s.End > n)
                throw new ArgumentException($"Segment [{s.Start}, {s.End}) is empty or outside the audio [0, {n}).", nameof(segments));
            if (s.Start < pos)
                throw new ArgumentException($"Segment [{s.Start}, {s.End}) overlaps the segment before it (which ends at {pos}).", nameof(segments));
            if (s.Start > pos) tiles.Add(new SampleSegment(pos, s.Start - pos));
            tiles.Add(s);
            pos = s.End;
        }
        if (pos < n) tiles.Add(new SampleSegment(pos, n - pos));
        return tiles;
    }

    private static int[] Order(int count, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var rng = new Random(seed);
        for (var i = count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static float[] Join(ReadOnlySpan<float> x, SampleSegment[] ordered, int fade)
    {
        var n = x.Length;
        var output = new float[n];
        var at = 0;
        foreach (var s in ordered)
        {
            x.Slice(s.Start, s.Length).CopyTo(output.AsSpan(at));
            at += s.Length;
        }
        var half = fade / 2;
        if (half == 0) return output;
        var junction = 0;
        for (var j = 1; j < ordered.Length; j++)
        {
            var a = ordered[j - 1];
            var b = ordered[j];
            junction += a.Length;
            if (a.End == b.Start) continue; // source neighbours: nothing to hide
            var h = Math.Min(half, Math.Min(a.Length, b.Length) / 2);
            for (var k = -h; k < h; k++)
            {
                var w = (k + h + 0.5) / (2.0 * h);
                var va = x[Mirror(a.End + k, n)];
                var vb = x[Mirror(b.Start + k, n)];
                output[junction + k] = (float)((1 - w) * va + w * vb);
            }
        }
        return output;
    }

    private static int Mirror(int i, int n)
    {
        if (n == 1) return 0;
        var period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }
}
