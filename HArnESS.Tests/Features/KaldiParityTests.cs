using System.Text.Json;
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

    /// <summary>One case of <c>speech_silence.json</c>: espeak-ng speech with sox-inserted pauses, and torchaudio's
    /// result on the float32 waveform and on the same waveform as float64.</summary>
    public sealed record SilenceCase(string Name, string Kind, string Signal, JsonElement Options, int Frames, int Dim, string F32, string F64, double TorchaudioF32VsF64)
    {
        public override string ToString() => $"{Name}__{Signal}";
    }

    private static readonly Lazy<JsonDocument> SilenceManifest =
        new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(FeatureFixtures.Dir, "speech_silence.json"))));

    private static IEnumerable<SilenceCase> SilenceCases() =>
        SilenceManifest.Value.RootElement.GetProperty("cases").EnumerateArray().Select(c => new SilenceCase(
            c.GetProperty("case").GetString()!, c.GetProperty("kind").GetString()!, c.GetProperty("signal").GetString()!,
            c.GetProperty("options").Clone(), c.GetProperty("frames").GetInt32(), c.GetProperty("dim").GetInt32(),
            c.GetProperty("f32").GetString()!, c.GetProperty("f64").GetString()!, c.GetProperty("torchaudio_f32_vs_f64").GetDouble()));

    private static Tensor SilenceWave(string signal)
    {
        foreach (var s in SilenceManifest.Value.RootElement.GetProperty("signals").EnumerateArray())
            if (s.GetProperty("name").GetString() == signal) return tensor(FeatureFixtures.ReadFloats(s.GetProperty("file").GetString()!));
        throw new ArgumentException($"no silence signal '{signal}'");
    }

    private static IEnumerable<TestCaseData> SilenceCaseData() =>
        SilenceCases().Select(c => new TestCaseData(c).SetName($"Precision_{c.Name}__{c.Signal}"));

    [TestCaseSource(nameof(SilenceCaseData))]
    public void Float32ErrorOnSpeechWithSilencesIsBounded(SilenceCase c)
    {
        using var scope = NewDisposeScope();
        IFeatureExtractor extractor = c.Kind == "fbank"
            ? new Fbank(FeatureFixtures.FbankFromKwargs(c.Options))
            : new Mfcc(FeatureFixtures.MfccFromKwargs(c.Options));
        var wave = SilenceWave(c.Signal);
        var h32 = extractor.Compute(wave);
        var h64 = extractor.Compute(wave.to(ScalarType.Float64));
        var t32 = tensor(FeatureFixtures.ReadFloats(c.F32), new long[] { c.Frames, c.Dim });
        var t64 = tensor(FeatureFixtures.ReadFloats(c.F64), new long[] { c.Frames, c.Dim });
        Assert.That(h32.shape, Is.EqualTo(new long[] { c.Frames, c.Dim }));

        double h32t32 = FeatureFixtures.MaxAbsDiff(h32, t32), h32t64 = FeatureFixtures.MaxAbsDiff(h32, t64);
        double t32t64 = FeatureFixtures.MaxAbsDiff(t32, t64), h64t64 = FeatureFixtures.MaxAbsDiff(h64, t64);
        // Fbank: the error sits in bins within a few nats of the log(FLT_EPSILON) = -15.9 floor; elsewhere it is small.
        double h32t64Loud = c.Kind == "fbank" ? MaxAbsDiffWhere(h32, t64, t64 >= -10.0) : double.NaN;
        double t32t64Loud = c.Kind == "fbank" ? MaxAbsDiffWhere(t32, t64, t64 >= -10.0) : double.NaN;
        TestContext.Out.WriteLine($"{c}: HArnESS f32 vs torchaudio f32 {h32t32:E2}, HArnESS f32 vs torchaudio f64 {h32t64:E2}, " +
                                  $"torchaudio f32 vs f64 {t32t64:E2}, HArnESS f64 vs torchaudio f64 {h64t64:E2}" +
                                  (c.Kind == "fbank" ? $"; bins >= -10 only: HArnESS f32 {h32t64Loud:E2}, torchaudio f32 {t32t64Loud:E2}" : ""));

        // The float64 paths agree; float32 is as close to the float64 truth as torchaudio's own float32 is.
        Assert.That(h64t64, Is.LessThanOrEqualTo(1e-4), "HArnESS float64 vs torchaudio float64");
        Assert.That(t32t64, Is.EqualTo(c.TorchaudioF32VsF64).Within(1e-5), "the fixtures are the ones the script measured");
        Assert.That(h32t64, Is.LessThanOrEqualTo(2 * t32t64 + 1e-4), "HArnESS float32 error against float64 truth, relative to torchaudio's own");
        double bound = c.Kind == "fbank" ? 2e-3 : 5e-3;
        Assert.That(h32t64, Is.LessThanOrEqualTo(bound), "HArnESS float32 vs torchaudio float64");
        Assert.That(h32t32, Is.LessThanOrEqualTo(bound), "HArnESS float32 vs torchaudio float32");
        if (c.Kind == "fbank") Assert.That(h32t64Loud, Is.LessThanOrEqualTo(1e-4), "bins with log-mel energy >= -10");
    }

    private static double MaxAbsDiffWhere(Tensor a, Tensor b, Tensor mask)
    {
        using var d = (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().masked_select(mask).max();
        return d.item<double>();
    }
}
