using HArnESS.Features;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Features;

[TestFixture]
public sealed class MfccTests
{
    private static IEnumerable<TestCaseData> Extractors()
    {
        yield return new TestCaseData(new Mfcc()).SetName("MfccBatch_energy");
        yield return new TestCaseData(new Mfcc(MfccOptions.Hubert with { HtkCompat = true, SubtractMean = true })).SetName("MfccBatch_htk_mean");
        yield return new TestCaseData(new Mfcc(new MfccOptions { Frame = new FrameOptions { SnipEdges = false } })).SetName("MfccBatch_nosnip");
        yield return new TestCaseData(new HubertMfcc39()).SetName("Hubert39Batch");
    }

    [TestCaseSource(nameof(Extractors))]
    public void BatchEqualsSingleUtterance(IFeatureExtractor extractor)
    {
        using var scope = NewDisposeScope();
        var a = FeatureFixtures.Signal("arabic");
        var waves = new[] { a, a.narrow(0, 3000, 4500), a.narrow(0, 0, 430) };
        var lengths = waves.Select(w => w.shape[0]).ToArray();
        var batch = stack(waves.Select(w => cat(new[] { w, ones(a.shape[0] - w.shape[0]) })).ToArray());
        var (features, frameLengths) = extractor.Compute(batch, tensor(lengths));
        var counts = lengths.Select(extractor.FrameCount).ToArray();
        Assert.That(frameLengths.data<long>().ToArray(), Is.EqualTo(counts));
        Assert.That(features.shape, Is.EqualTo(new[] { 3L, counts.Max(), extractor.FeatureDim }));
        for (var i = 0; i < waves.Length; i++)
        {
            var single = extractor.Compute(waves[i]);
            Assert.That(FeatureFixtures.MaxAbsDiff(features[i].narrow(0, 0, counts[i]), single), Is.LessThanOrEqualTo(1e-4), $"row {i}");
            if (counts[i] < features.shape[1])
                Assert.That(features[i].narrow(0, counts[i], features.shape[1] - counts[i]).abs().max().item<float>(), Is.EqualTo(0f));
        }
    }

    [Test]
    public void HubertFeatureIsMfccPlusTwoDeltaOrders()
    {
        using var scope = NewDisposeScope();
        var wave = FeatureFixtures.Signal("english");
        var h = new HubertMfcc39().Compute(wave);
        var m = new Mfcc(MfccOptions.Hubert).Compute(wave);
        Assert.That(h.shape, Is.EqualTo(new[] { m.shape[0], 39L }));
        Assert.That(FeatureFixtures.MaxAbsDiff(h.narrow(1, 0, 13), m), Is.EqualTo(0.0));
        Assert.That(FeatureFixtures.MaxAbsDiff(h.narrow(1, 13, 13), Deltas.Compute(m)), Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void DctMatrixIsOrthonormalWithoutLifter()
    {
        using var scope = NewDisposeScope();
        var d = tensor(FlattenDct(Mfcc.DctMatrix(23, 23)), new long[] { 23, 23 });
        Assert.That(FeatureFixtures.MaxAbsDiff(d.t().matmul(d), eye(23)), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void LifterMatchesKaldisFormula()
    {
        var l = Mfcc.LifterCoefficients(13, 22.0);
        for (var i = 0; i < 13; i++) Assert.That(l[i], Is.EqualTo(1.0 + 11.0 * Math.Sin(Math.PI * i / 22.0)).Within(1e-5));
        Assert.That(Mfcc.LifterCoefficients(3, 0.0), Is.EqualTo(new[] { 1f, 1f, 1f }));
    }

    private static float[] FlattenDct(float[,] m) => m.Cast<float>().ToArray();
}
