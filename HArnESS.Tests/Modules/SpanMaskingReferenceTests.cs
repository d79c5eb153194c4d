using System.Text.Json;
using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Modules;

/// <summary>
/// <see cref="SpanMasking"/> against torchaudio 0.13's <c>_compute_mask_indices</c> (HuBERT pre-training masks),
/// statistically: the fixture (scripts/fixtures/make_span_masking_fixtures.py) holds, per setting, the distribution of
/// masked frames per row, the histogram of masked run lengths, padded-frame and empty-batch counts over thousands of
/// torchaudio draws. The same statistics are drawn here from HArnESS with a fixed generator and compared within
/// five standard errors of the difference (the two random generators differ, so only distributions can agree).
/// </summary>
public sealed class SpanMaskingReferenceTests
{
    private const double Sigmas = 5;

    private static IEnumerable<TestCaseData> Settings()
    {
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Modules", "span_masking.json"))).RootElement;
        foreach (var s in root.GetProperty("settings").EnumerateArray())
            yield return new TestCaseData(s.Clone()).SetName($"SpanMaskingMatchesTorchaudio({s.GetProperty("name").GetString()})");
    }

    private sealed record Stats(double CountMean, double CountStd, long MinCount, long MaxCount, long[] Runs, long PaddedMasked, int EmptyBatches, int Trials);

    private static Stats Draw(JsonElement s, int trials, ulong seed)
    {
        var b = s.GetProperty("batch").GetInt32();
        var t = s.GetProperty("frames").GetInt32();
        long[]? lengths = s.GetProperty("lengths").ValueKind == JsonValueKind.Null
            ? null
            : s.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var prob = s.GetProperty("mask_prob").GetDouble();
        var span = s.GetProperty("mask_length").GetInt32();
        var minMasks = s.GetProperty("min_masks").GetInt32();
        var maxRun = s.GetProperty("max_run").GetInt32();
        var runs = new long[maxRun];
        var counts = new List<long>(trials);
        long padded = 0;
        var empty = 0;
        using var gen = new Generator(seed);
        using var lens = lengths is null ? null : tensor(lengths);
        for (var trial = 0; trial < trials; trial++)
        {
            using var scope = NewDisposeScope();
            var mask = SpanMasking.Compute(b, t, lens, prob, span, minMasks, gen);
            var m = mask.data<bool>().ToArray();
            var rowCounts = new long[b];
            for (var i = 0; i < b; i++)
            {
                var n = lengths?[i] ?? t;
                var run = 0;
                for (var j = 0; j <= t; j++)
                {
                    var v = j < t && m[i * t + j];
                    if (v)
                    {
                        run++;
                        rowCounts[i]++;
                        if (j >= n) padded++;
                    }
                    else if (run > 0)
                    {
                        runs[Math.Min(run, maxRun) - 1]++;
                        run = 0;
                    }
                }
            }
            Assert.That(rowCounts.Distinct().Count(), Is.EqualTo(1), "rows of a batch mask equally many frames");
            counts.Add(rowCounts[0]);
            if (rowCounts[0] == 0) empty++;
        }
        var mean = counts.Average();
        var std = Math.Sqrt(counts.Sum(c => (c - mean) * (c - mean)) / Math.Max(1, counts.Count - 1));
        return new Stats(mean, std, counts.Min(), counts.Max(), runs, padded, empty, trials);
    }

    [TestCaseSource(nameof(Settings))]
    public void SpanMaskingMatchesTorchaudio(JsonElement s)
    {
        var n = s.GetProperty("trials").GetInt32();
        var refMean = s.GetProperty("count_mean").GetDouble();
        var refStd = s.GetProperty("count_std").GetDouble();
        var refRuns = s.GetProperty("runs").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var got = Draw(s, Math.Min(n, 1500), 20261201);
        TestContext.Out.WriteLine(FormattableString.Invariant(
            $"{s.GetProperty("name").GetString()}: masked/row HArnESS {got.CountMean:F3} ± {got.CountStd:F3} [{got.MinCount}, {got.MaxCount}], torchaudio {refMean:F3} ± {refStd:F3}; empty batches {got.EmptyBatches}/{got.Trials} vs {s.GetProperty("empty_batches").GetInt32()}/{n}"));

        // Masked frames per row: mean within 5 standard errors, spread within 15 %.
        var se = Math.Sqrt(refStd * refStd / n + got.CountStd * got.CountStd / got.Trials);
        Assert.That(got.CountMean, Is.EqualTo(refMean).Within(Sigmas * se + 1e-9), $"mean masked frames per row (torchaudio {refMean:F3} ± {refStd:F3})");
        Assert.That(got.CountStd, Is.EqualTo(refStd).Within(0.15 * refStd + 1e-9), "spread of masked frames per row");
        if (refStd < 3)
        {
            // Discrete settings: the support of the count matches exactly.
            Assert.That(got.MinCount, Is.EqualTo(s.GetProperty("min_count").GetInt64()), "smallest count");
            Assert.That(got.MaxCount, Is.EqualTo(s.GetProperty("max_count").GetInt64()), "largest count");
        }

        // Span-length distribution: each run-length bucket's share of all runs.
        double refTotal = refRuns.Sum(), gotTotal = got.Runs.Sum();
        Assert.That(gotTotal > 0, Is.EqualTo(refTotal > 0), "runs exist in both or in neither");
        for (var k = 0; k < refRuns.Length && refTotal > 0; k++)
        {
            var p = refRuns[k] / refTotal;
            var q = got.Runs[k] / gotTotal;
            var pooled = (refRuns[k] + got.Runs[k]) / (refTotal + gotTotal);
            var tol = Sigmas * Math.Sqrt(pooled * (1 - pooled) * (1 / refTotal + 1 / gotTotal)) + 1e-3;
            Assert.That(q, Is.EqualTo(p).Within(tol), $"share of masked runs of length {(k + 1 == refRuns.Length ? $"≥{k + 1}" : (k + 1).ToString())}");
        }

        // Padded frames are never masked; batches left empty (a row too short or fully padded) as often as torchaudio.
        Assert.That(s.GetProperty("padded_masked").GetInt64(), Is.Zero);
        Assert.That(got.PaddedMasked, Is.Zero, "padded frames masked");
        var pe = s.GetProperty("empty_batches").GetInt32() / (double)n;
        var qe = got.EmptyBatches / (double)got.Trials;
        var pooledE = (s.GetProperty("empty_batches").GetInt32() + got.EmptyBatches) / (double)(n + got.Trials);
        Assert.That(qe, Is.EqualTo(pe).Within(Sigmas * Math.Sqrt(pooledE * (1 - pooledE) * (1.0 / n + 1.0 / got.Trials)) + 1e-9), "share of batches with nothing masked");
    }
}
