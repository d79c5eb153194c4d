using HArnESS.Features;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Features;

[TestFixture]
public sealed class DeltasAndCmvnTests
{
    [Test]
    public void BatchedDeltasReplicateEachUtterancesOwnEdge()
    {
        using var scope = NewDisposeScope();
        var a = randn(7, 3);
        var b = randn(4, 3);
        var batch = stack(new[] { a, cat(new[] { b, full(3, 3, 100f) }) });
        var lengths = tensor(new long[] { 7, 4 });
        var d = Deltas.Add(batch, lengths);
        Assert.That(d.shape, Is.EqualTo(new long[] { 2, 7, 9 }));
        Assert.That(FeatureFixtures.MaxAbsDiff(d[0], Deltas.Add(a)), Is.LessThanOrEqualTo(1e-6));
        Assert.That(FeatureFixtures.MaxAbsDiff(d[1].narrow(0, 0, 4), Deltas.Add(b)), Is.LessThanOrEqualTo(1e-6));
        Assert.That(d[1].narrow(0, 4, 3).abs().max().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void DeltaOfALinearRampIsItsSlopeInside()
    {
        using var scope = NewDisposeScope();
        var ramp = (arange(10, ScalarType.Float32) * 3).unsqueeze(1);
        var d = Deltas.Compute(ramp);
        Assert.That(FeatureFixtures.MaxAbsDiff(d.narrow(0, 2, 6), full(6, 1, 3f)), Is.LessThanOrEqualTo(1e-5));
        Assert.That(Deltas.Add(ramp, order: 0).shape, Is.EqualTo(new long[] { 10, 1 }));
        Assert.Throws<HArnessConfigException>(() => Deltas.Add(ramp, order: -1));
        Assert.Throws<HArnessConfigException>(() => Deltas.Compute(ramp, window: 0));
        Assert.Throws<HArnessConfigException>(() => Deltas.Compute(arange(5)));
    }

    [Test]
    public void UtteranceCmvnUsesOnlyValidFrames()
    {
        using var scope = NewDisposeScope();
        var a = randn(6, 4) * 3 + 5;
        var b = randn(3, 4) * 2 - 1;
        var batch = stack(new[] { a, cat(new[] { b, full(3, 4, 1e6f) }) });
        var (y, means) = Cmvn.Utterance(batch, tensor(new long[] { 6, 3 }), normalizeVariance: true);
        var single = Cmvn.Utterance(b, normalizeVariance: true);
        Assert.That(FeatureFixtures.MaxAbsDiff(y[1].narrow(0, 0, 3), single), Is.LessThanOrEqualTo(1e-5));
        Assert.That(FeatureFixtures.MaxAbsDiff(means[1], b.mean(new long[] { 0 })), Is.LessThanOrEqualTo(1e-5));
        Assert.That(y[1].narrow(0, 3, 3).abs().max().item<float>(), Is.EqualTo(0f));
        Assert.That(y[0].mean(new long[] { 0 }).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(FeatureFixtures.MaxAbsDiff(y[0].std(0, unbiased: false), ones(4)), Is.LessThanOrEqualTo(1e-4));
        var meanOnly = Cmvn.Utterance(a);
        Assert.That(FeatureFixtures.MaxAbsDiff(meanOnly, a - a.mean(new long[] { 0 }, keepdim: true)), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void StreamingStatsOverBatchesEqualStatsOfAllFrames()
    {
        using var scope = NewDisposeScope();
        var a = randn(5, 3) + 2;
        var b = randn(2, 3) * 4;
        var c = randn(8, 3) - 1;
        var stats = new CmvnStats(3);
        stats.Accumulate(stack(new[] { a, cat(new[] { b, full(3, 3, 1e3f) }) }), tensor(new long[] { 5, 2 }));
        var other = new CmvnStats(3);
        other.Accumulate(c);
        stats.Merge(other);
        var all = cat(new[] { a, b, c }).to(ScalarType.Float64);
        Assert.That(stats.FrameCount, Is.EqualTo(15));
        Assert.That(stats.Mean(), Is.EqualTo(all.mean(new long[] { 0 }).data<double>().ToArray()).Within(1e-6));
        Assert.That(stats.Variance(), Is.EqualTo(all.var(0, unbiased: false).data<double>().ToArray()).Within(1e-5));
        var normalised = stats.Apply(all.to(ScalarType.Float32));
        Assert.That(normalised.mean(new long[] { 0 }).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(FeatureFixtures.MaxAbsDiff(normalised.std(0, unbiased: false), ones(3)), Is.LessThanOrEqualTo(1e-4));
        var padded = stats.Apply(stack(new[] { c, cat(new[] { b, zeros(6, 3) }) }), tensor(new long[] { 8, 2 }), normalizeVariance: false);
        Assert.That(FeatureFixtures.MaxAbsDiff(padded[1].narrow(0, 0, 2), stats.Apply(b, normalizeVariance: false)), Is.LessThanOrEqualTo(1e-6));
        Assert.That(padded[1].narrow(0, 2, 6).abs().max().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void StatsRoundTripThroughTheFile()
    {
        using var scope = NewDisposeScope();
        var stats = new CmvnStats(4);
        stats.Accumulate(randn(10, 4));
        var path = Path.Combine(Path.GetTempPath(), $"cmvn-{Guid.NewGuid():N}.json");
        try
        {
            stats.Save(path);
            var loaded = CmvnStats.Load(path);
            Assert.That(loaded.Dim, Is.EqualTo(4));
            Assert.That(loaded.FrameCount, Is.EqualTo(10));
            Assert.That(loaded.Sum, Is.EqualTo(stats.Sum));
            Assert.That(loaded.SumOfSquares, Is.EqualTo(stats.SumOfSquares));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void BadStatsFilesAndMisuseAreNamedErrors()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Path.GetTempPath(), $"cmvn-{Guid.NewGuid():N}.json");
        try
        {
            Assert.That(Assert.Throws<HArnessDataException>(() => CmvnStats.Load(path))!.FilePath, Is.EqualTo(path));
            File.WriteAllText(path, "{ not json");
            Assert.That(Assert.Throws<HArnessFormatException>(() => CmvnStats.Load(path))!.FilePath, Is.EqualTo(path));
            File.WriteAllText(path, """{"format":"harness-cmvn","version":1,"dim":3,"frameCount":2,"sum":[1,2],"sumOfSquares":[1,2,3]}""");
            Assert.That(Assert.Throws<HArnessFormatException>(() => CmvnStats.Load(path))!.Message, Does.Contain("\"dim\""));
            File.WriteAllText(path, """{"format":"other","version":1}""");
            Assert.That(Assert.Throws<HArnessFormatException>(() => CmvnStats.Load(path))!.Message, Does.Contain("format"));
        }
        finally
        {
            File.Delete(path);
        }
        var empty = new CmvnStats(2);
        Assert.Throws<HArnessDataException>(() => empty.Mean());
        Assert.Throws<HArnessConfigException>(() => empty.Accumulate(zeros(3, 5)));
        Assert.Throws<HArnessConfigException>(() => empty.Merge(new CmvnStats(3)));
        Assert.Throws<HArnessConfigException>(() => _ = new CmvnStats(0));
    }
}
