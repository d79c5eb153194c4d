using HArnESS.Distillation.Augmentation;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Augmentation;

public sealed class SegmentShufflerTests
{
    private const int Rate = 16_000;

    /// <summary>A 200 Hz tone with a syllable-like envelope: loud 0.15 s bursts separated by 0.05 s near-silences.</summary>
    private static float[] Syllables(int seconds = 2)
    {
        var x = new float[seconds * Rate];
        for (var i = 0; i < x.Length; i++)
        {
            var tInCycle = i % (Rate / 5); // 0.2 s cycle
            var env = tInCycle < 0.15 * Rate ? 1.0 : 0.02;
            x[i] = (float)(env * Math.Sin(2 * Math.PI * 200 * i / Rate + 0.3));
        }
        return x;
    }

    private static double MaxStep(float[] x) => x.Zip(x.Skip(1), (a, b) => Math.Abs(b - a)).Max();

    [Test]
    public void SameSeedSameOutputAndLengthIsPreserved()
    {
        var x = Syllables();
        var a = SegmentShuffler.Shuffle(x, seed: 7);
        var b = SegmentShuffler.Shuffle(x, seed: 7);
        var c = SegmentShuffler.Shuffle(x, seed: 8);
        Assert.That(a, Has.Length.EqualTo(x.Length));
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
        Assert.That(a, Is.Not.EqualTo(x));
    }

    [Test]
    public void WithoutCrossFadeTheSamplesArePermutedExactlyAndWithItAlmost()
    {
        var x = Syllables();
        var sorted = x.Order().ToArray();
        var butt = SegmentShuffler.Shuffle(x, 3, new SegmentShuffleOptions { CrossFadeSeconds = 0 });
        Assert.That(butt.Order().ToArray(), Is.EqualTo(sorted), "butt joins move samples, never change them");

        var faded = SegmentShuffler.Shuffle(x, 3);
        var segments = EnergySegmenter.Segment(x);
        var changed = faded.Order().Zip(sorted, (p, q) => Math.Abs(p - q)).Average();
        // at most 80 samples per junction are blended, out of 32 000
        Assert.That(changed, Is.LessThan(0.01));
        var differing = faded.Zip(butt, (p, q) => p != q).Count(d => d);
        Assert.That(differing, Is.LessThanOrEqualTo((segments.Count - 1) * 80));
        Assert.That(differing, Is.GreaterThan(0));
    }

    [Test]
    public void CrossFadesMakeJunctionsContinuous()
    {
        // a steady tone, so any jump comes from a junction
        var x = Enumerable.Range(0, Rate).Select(i => (float)Math.Sin(2 * Math.PI * 200 * i / Rate)).ToArray();
        var srcStep = MaxStep(x); // 2π·200/16000 ≈ 0.0785
        var segs = Enumerable.Range(0, 10).Select(i => new SampleSegment(i * 1600 + 37 * i, 1600 - 37 * i)).ToArray();
        // segments [i·1637, ...) leave gaps: those are shuffled too
        var butt = SegmentShuffler.Shuffle(x, segs, 11, new SegmentShuffleOptions { CrossFadeSeconds = 0 });
        var faded = SegmentShuffler.Shuffle(x, segs, 11);
        Assert.That(MaxStep(butt), Is.GreaterThan(0.5), "butt joins of a tone jump");
        Assert.That(MaxStep(faded), Is.LessThan(srcStep + 2.0 / 80 + 1e-3), "a 5 ms fade spreads any jump over 80 samples");
    }

    [Test]
    public void EnergySegmenterCutsInTheQuietGapsWithinTheLengthLimits()
    {
        var x = Syllables();
        var segs = EnergySegmenter.Segment(x);
        Assert.That(segs[0].Start, Is.EqualTo(0));
        Assert.That(segs[^1].End, Is.EqualTo(x.Length));
        for (var i = 1; i < segs.Count; i++) Assert.That(segs[i].Start, Is.EqualTo(segs[i - 1].End));
        Assert.That(segs.All(s => s.Length >= 0.05 * Rate && s.Length <= 0.25 * Rate), Is.True);
        // every inner cut falls in a quiet stretch (0.15–0.2 s of each 0.2 s cycle)
        foreach (var s in segs.Skip(1))
        {
            var inCycle = s.Start % (Rate / 5);
            Assert.That(inCycle, Is.InRange(0.15 * Rate, 0.2 * Rate), $"cut at {s.Start}");
        }
        Assert.That(EnergySegmenter.Segment(new float[1000]), Has.Count.EqualTo(1));
        Assert.That(EnergySegmenter.Segment(ReadOnlySpan<float>.Empty), Is.Empty);
    }

    [Test]
    public void BatchesShuffleEachRowLikeASingleUtteranceAndKeepPadding()
    {
        var x = Syllables(1);
        var y = Syllables(1).Select(v => -v).ToArray();
        var padded = y.Take(12_000).Concat(Enumerable.Repeat(5f, 4_000)).ToArray();
        using var batch = tensor(x.Concat(padded).ToArray(), [2, Rate]);
        using var lens = tensor(new long[] { Rate, 12_000 });
        using var outB = SegmentShuffler.Shuffle(batch, 5, lens);
        Assert.That(outB.shape, Is.EqualTo(new long[] { 2, Rate }));
        var rows = outB.data<float>().ToArray();
        Assert.That(rows.Take(Rate).ToArray(), Is.EqualTo(SegmentShuffler.Shuffle(x, 5)));
        Assert.That(rows.Skip(Rate).Take(12_000).ToArray(), Is.EqualTo(SegmentShuffler.Shuffle(y.AsSpan(0, 12_000), 6)));
        Assert.That(rows.Skip(Rate + 12_000).All(v => v == 5f), Is.True, "padding untouched");
        using var one = SegmentShuffler.Shuffle(tensor(x), 5);
        Assert.That(one.data<float>().ToArray(), Is.EqualTo(SegmentShuffler.Shuffle(x, 5)));
        Assert.That(() => SegmentShuffler.Shuffle(zeros(2, 3, 4), 1), Throws.ArgumentException.With.Property("ParamName").EqualTo("waveforms"));
    }

    [Test]
    public void AlignmentFileDrivesTheSegmentsAndBadFilesGetNamedErrors()
    {
        using var dir = TestPaths.NewTempDirectory();
        var path = dir.File("align.txt");
        File.WriteAllText(path, "# utt start end label\nu1 0.00 0.30 sil\nu1 0.30 0.55 ah\n\nu2 0.10 0.20 b\nu1 0.55 1.00 t\n");
        var al = AlignmentFile.Read(path);
        Assert.That(al.Keys, Is.EquivalentTo(new[] { "u1", "u2" }));
        Assert.That(al["u1"].Select(s => s.Label), Is.EqualTo(new[] { "sil", "ah", "t" }));
        Assert.That(al["u1"][1], Is.EqualTo(new AlignedSegment(0.30, 0.55, "ah")));

        var x = Syllables(1);
        var shuffled = SegmentShuffler.Shuffle(x, al["u1"], 2, new SegmentShuffleOptions { CrossFadeSeconds = 0 }, "u1");
        // three segments of 4800, 4000 and 7200 samples: the output is those blocks in some order
        var blocks = new[] { (0, 4800), (4800, 4000), (8800, 7200) };
        var at = 0;
        var seen = new List<int>();
        while (at < x.Length)
        {
            var match = Array.FindIndex(blocks, b => b.Item2 <= x.Length - at && x.AsSpan(b.Item1, b.Item2).SequenceEqual(shuffled.AsSpan(at, b.Item2)));
            Assert.That(match, Is.GreaterThanOrEqualTo(0), $"no source block starts at output sample {at}");
            seen.Add(match);
            at += blocks[match].Item2;
        }
        Assert.That(seen.Order(), Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(() => SegmentShuffler.Shuffle(x.AsSpan(0, 8000), al["u1"], 2, null, "u1"),
            Throws.InstanceOf<HArnessDataException>().With.Message.Contains("'u1'").And.Message.Contains("runs to 1 s"));

        (string Text, int Line, string What)[] bad =
        [
            ("u1 0.0 0.5 a\nu1 0.5 x b\n", 2, "end_seconds 'x' is not a number"),
            ("u1 0.0 0.5\n", 1, "expected 4 fields"),
            ("# c\nu1 0.6 0.5 a\n", 2, "must be greater than"),
            ("u1 -1 0.5 a\n", 1, "negative"),
            ("u1 0.0 0.5 a\nu2 0 1 b\nu1 0.4 0.9 c\n", 3, "overlaps the one on line 1"),
            ("u1 0.0 0.5 a\r\n" + new string('x', 5000) + "\n", 2, "more than the 4096 characters"),
        ];
        foreach (var (text, line, what) in bad)
        {
            File.WriteAllText(path, text);
            var ex = Assert.Throws<HArnessFormatException>(() => AlignmentFile.Read(path));
            Assert.That(ex!.Message, Does.Contain($"line {line}").And.Contain(what).And.Contain(path), text);
            Assert.That(ex.FilePath, Is.EqualTo(path));
        }
        Assert.That(() => AlignmentFile.Read(dir.File("missing.txt")), Throws.InstanceOf<HArnessDataException>().With.Message.Contains("missing.txt"));
        Assert.Throws<HArnessValidationException>(() => EnergySegmenter.Segment(x, new SegmentShuffleOptions { MinSegmentSeconds = 0.2, MaxSegmentSeconds = 0.3 }));
    }
}
