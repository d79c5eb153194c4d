using HArnESS.Features;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Features;

/// <summary>Every fixture case against torchaudio.compliance.kaldi 0.13.1: max abs difference ≤ 1e-3.</summary>
[TestFixture]
public sealed class KaldiParityTests
{
    private const double Tolerance = 1e-3;

    private static IEnumerable<TestCaseData> Cases() =>
        FeatureFixtures.Cases().Select(c => new TestCaseData(c).SetName($"Parity_{c.Name}__{c.Signal}"));

    [TestCaseSource(nameof(Cases))]
    public void SingleUtteranceMatchesTorchaudio(FeatureFixtures.Case c)
    {
        using var scope = NewDisposeScope();
        var wave = c.Wave();
        var extractor = c.Extractor();
        var actual = extractor.Compute(wave);
        Assert.That(actual.dtype, Is.EqualTo(wave.dtype), "features keep the waveform's precision");
        Assert.That(actual.shape, Is.EqualTo(new long[] { c.Frames, c.Dim }), "shape");
        Assert.That(extractor.FrameCount(wave.shape[0]), Is.EqualTo(c.Frames), "KaldiFrames.Count");
        var err = FeatureFixtures.MaxAbsDiff(actual, c.Expected());
        TestContext.Out.WriteLine($"max abs error {c}: {err:E3}");
        Assert.That(err, Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void BatchedEverySignalMatchesTorchaudioPerCase()
    {
        // All signals of one case in one padded batch: each row must still match its own reference.
        var report = new List<string>();
        foreach (var group in FeatureFixtures.Cases().GroupBy(c => c.Name))
        {
            using var scope = NewDisposeScope();
            var cases = group.ToList();
            var waves = cases.Select(c => c.Wave()).ToList();
            var lengths = tensor(waves.Select(w => w.shape[0]).ToArray());
            var maxLen = waves.Max(w => w.shape[0]);
            var batch = stack(waves.Select(w => nn.functional.pad(w, new[] { 0L, maxLen - w.shape[0] })).ToArray());
            var (features, frameLengths) = cases[0].Extractor().Compute(batch, lengths);
            var worst = 0.0;
            for (var i = 0; i < cases.Count; i++)
            {
                Assert.That(frameLengths[i].item<long>(), Is.EqualTo(cases[i].Frames), cases[i].ToString());
                var own = features[i].narrow(0, 0, cases[i].Frames);
                worst = Math.Max(worst, FeatureFixtures.MaxAbsDiff(own, cases[i].Expected()));
                if (features.shape[1] > cases[i].Frames)
                    Assert.That(FeatureFixtures.MaxAbsDiff(features[i].narrow(0, cases[i].Frames, features.shape[1] - cases[i].Frames), zeros(1)),
                        Is.EqualTo(0.0), $"{cases[i]}: padded frames are zero");
            }
            report.Add($"{group.Key}: {worst:E2}");
            Assert.That(worst, Is.LessThanOrEqualTo(Tolerance), group.Key);
        }
        TestContext.Out.WriteLine("max abs error per option set (batched, all signals): " + string.Join("; ", report));
        TestContext.Progress.WriteLine("Features parity (batched): " + string.Join("; ", report));
    }

    [Test]
    public void DeltasMatchTorchaudioComputeDeltas()
    {
        using var scope = NewDisposeScope();
        var d = FeatureFixtures.Root.GetProperty("deltas");
        int frames = d.GetProperty("frames").GetInt32(), dim = d.GetProperty("dim").GetInt32();
        var input = tensor(FeatureFixtures.ReadFloats(d.GetProperty("input").GetString()!), new long[] { frames, dim });
        var expected = tensor(FeatureFixtures.ReadFloats(d.GetProperty("output").GetString()!), new long[] { frames, 3 * dim });
        var actual = Deltas.Add(input);
        Assert.That(actual.shape, Is.EqualTo(new long[] { frames, 3 * dim }));
        Assert.That(FeatureFixtures.MaxAbsDiff(actual, expected), Is.LessThanOrEqualTo(1e-5));
    }
}
