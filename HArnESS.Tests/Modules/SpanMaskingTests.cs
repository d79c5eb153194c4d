using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Modules;

public sealed class SpanMaskingTests
{
    [Test]
    public void MaskFractionIsBoundedAndPaddingIsNeverMasked()
    {
        long[] lengths = [1000, 800, 600, 1000, 950, 700, 1000, 900];
        using var lens = tensor(lengths);
        const double prob = 0.2;
        const int span = 10;
        using var mask = SpanMasking.Compute(8, 1000, lens, prob, span, minMasks: 2, generator: new Generator(42));
        Assert.That(mask.shape, Is.EqualTo(new[] { 8L, 1000L }));
        var counts = new List<long>();
        for (var b = 0; b < 8; b++)
        {
            var row = mask[b];
            counts.Add(row.sum().item<long>());
            Assert.That(row.narrow(0, lengths[b], 1000 - lengths[b]).any().item<bool>(), Is.False, $"row {b} masks padding");
        }
        Assert.That(counts.Distinct().Count(), Is.EqualTo(1), "rows are equalised to the smallest count");
        // Shortest row (600 frames): about prob·600/span = 12 spans of 10 frames, fewer distinct frames because of overlap.
        var fraction = counts[0] / 600.0;
        Assert.That(fraction, Is.LessThanOrEqualTo(prob + (double)span / 600));
        Assert.That(fraction, Is.GreaterThan(prob / 2));
    }

    [Test]
    public void SpansAreContiguousRunsOfTheMaskLength()
    {
        using var mask = SpanMasking.Compute(1, 5000, null, 0.01, 7, minMasks: 1, generator: new Generator(3));
        var row = mask[0].data<bool>().ToArray();
        // Runs are multiples-ish of the span: each run has length ≥ 7 unless cut by the end (none here: starts ≤ n-7).
        var run = 0;
        var runs = new List<int>();
        foreach (var m in row.Append(false))
        {
            if (m) run++;
            else if (run > 0) { runs.Add(run); run = 0; }
        }
        Assert.That(runs, Is.Not.Empty);
        Assert.That(runs.All(r => r >= 7), Is.True, string.Join(",", runs));
    }

    [Test]
    public void SameSeedSameMaskAndMinMasksHolds()
    {
        using var a = SpanMasking.Compute(4, 300, null, 0.3, 10, 2, new Generator(9));
        using var b = SpanMasking.Compute(4, 300, null, 0.3, 10, 2, new Generator(9));
        Assert.That(a.eq(b).all().item<bool>(), Is.True);
        using var few = SpanMasking.Compute(2, 300, null, 1e-6, 10, minMasks: 2, generator: new Generator(1));
        Assert.That(few[0].sum().item<long>(), Is.GreaterThanOrEqualTo(10), "two spans at least, overlapping at worst to one");
        using var zero = SpanMasking.Compute(2, 300, null, 0, 10);
        Assert.That(zero.any().item<bool>(), Is.False);
    }

    [Test]
    public void TinyAndEmptyRowsDoNotFail()
    {
        using var lens = tensor(new long[] { 0, 3, 12 });
        using var mask = SpanMasking.Compute(3, 12, lens, 0.5, 10, 2, new Generator(2));
        Assert.That(mask[0].any().item<bool>(), Is.False);
        Assert.Throws<ArgumentOutOfRangeException>(() => SpanMasking.Compute(1, 10, null, 1.5, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpanMasking.Compute(1, 10, null, 0.5, 0));
    }
}
