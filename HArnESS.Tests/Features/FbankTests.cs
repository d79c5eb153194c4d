using HArnESS.Features;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Features;

[TestFixture]
public sealed class FbankTests
{
    private static Tensor Pad(Tensor w, long to) => nn.functional.pad(w, new[] { 0L, to - w.shape[0] });

    private static (Tensor Batch, Tensor Lengths, Tensor[] Waves) MakeBatch(params long[] lengths)
    {
        var english = FeatureFixtures.Signal("english");
        var waves = lengths.Select((l, i) => english.narrow(0, 1000 * i, l)).ToArray();
        var max = lengths.Max();
        // Padding is filled with loud noise (not zeros) to prove nothing leaks into an utterance's frames.
        var batch = stack(waves.Select(w => cat(new[] { w, randn(max - w.shape[0]) * 10 })).ToArray());
        return (batch, tensor(lengths), waves);
    }

    private static IEnumerable<TestCaseData> BatchOptionSets()
    {
        yield return new TestCaseData(new FbankOptions()).SetName("Batch_defaults");
        yield return new TestCaseData(FbankOptions.Default80 with { Frame = new FrameOptions { SnipEdges = false } }).SetName("Batch_80_nosnip");
        yield return new TestCaseData(new FbankOptions { UseEnergy = true, RawEnergy = false, SubtractMean = true }).SetName("Batch_energy_subtract_mean");
        yield return new TestCaseData(new FbankOptions { UseEnergy = true, HtkCompat = true, Frame = new FrameOptions { WindowType = KaldiWindowType.Hamming, RemoveDcOffset = false } })
            .SetName("Batch_htk_hamming_nodc");
    }

    [TestCaseSource(nameof(BatchOptionSets))]
    public void BatchEqualsSingleUtterancePerRowAndZeroesPadding(FbankOptions options)
    {
        using var scope = NewDisposeScope();
        var fbank = new Fbank(options);
        var (batch, lengths, waves) = MakeBatch(16000, 401, 9999, 7321);
        var (features, frameLengths) = fbank.Compute(batch, lengths);
        var counts = waves.Select(w => fbank.FrameCount(w.shape[0])).ToArray();
        Assert.That(features.shape, Is.EqualTo(new[] { 4L, counts.Max(), options.FeatureDim }));
        Assert.That(frameLengths.dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(frameLengths.data<long>().ToArray(), Is.EqualTo(counts));
        for (var i = 0; i < waves.Length; i++)
        {
            var single = fbank.Compute(waves[i]);
            Assert.That(single.shape, Is.EqualTo(new[] { counts[i], options.FeatureDim }));
            Assert.That(FeatureFixtures.MaxAbsDiff(features[i].narrow(0, 0, counts[i]), single), Is.LessThanOrEqualTo(1e-5), $"row {i}");
            if (counts[i] < features.shape[1])
                Assert.That(features[i].narrow(0, counts[i], features.shape[1] - counts[i]).abs().max().item<float>(), Is.EqualTo(0f), $"row {i} padding");
        }
    }

    [Test]
    public void CachedConstantsSurviveTheCallersDisposeScopes()
    {
        var wave = FeatureFixtures.Signal("noise");
        var fbank = new Fbank(new FbankOptions { NumMelBins = 31, Frame = new FrameOptions { WindowType = KaldiWindowType.Blackman } });
        Tensor first;
        using (var scope = NewDisposeScope())
            first = fbank.Compute(wave).MoveToOuterDisposeScope();   // builds window and bank inside a scope that ends
        using (var scope = NewDisposeScope())
            Assert.That(FeatureFixtures.MaxAbsDiff(new Fbank(fbank.Options).Compute(wave), first), Is.EqualTo(0.0));
        first.Dispose();
    }

    [Test]
    public void FrameCountFollowsKaldi()
    {
        var snip = new FrameOptions();
        var noSnip = snip with { SnipEdges = false };
        Assert.Multiple(() =>
        {
            Assert.That(KaldiFrames.Count(399, snip), Is.EqualTo(0));
            Assert.That(KaldiFrames.Count(400, snip), Is.EqualTo(1));
            Assert.That(KaldiFrames.Count(16000, snip), Is.EqualTo(98));
            Assert.That(KaldiFrames.Count(16000, noSnip), Is.EqualTo(100));
            Assert.That(KaldiFrames.Count(16079, noSnip), Is.EqualTo(100));
            Assert.That(KaldiFrames.Count(16080, noSnip), Is.EqualTo(101));
            Assert.That(KaldiFrames.Count(100, noSnip), Is.EqualTo(1));
            Assert.That(KaldiFrames.Count(160000, FbankOptions.Default80), Is.EqualTo(998));
            Assert.That(KaldiFrames.Count(160000, new MfccOptions()), Is.EqualTo(998));
        });
        Assert.That(snip.WindowSize, Is.EqualTo(400));
        Assert.That(snip.WindowShift, Is.EqualTo(160));
        Assert.That(snip.PaddedWindowSize, Is.EqualTo(512));
        Assert.That((snip with { RoundToPowerOfTwo = false }).PaddedWindowSize, Is.EqualTo(400));
    }

    [Test]
    public void NoSnipEdgesHandlesSignalsShorterThanOneWindowByReflection()
    {
        using var scope = NewDisposeScope();
        var fbank = new Fbank(new FbankOptions { Frame = new FrameOptions { SnipEdges = false } });
        var noise = FeatureFixtures.Signal("noise");
        var wave = noise.narrow(0, 0, 250);   // 2 frames, each reaching past both ends
        var single = fbank.Compute(wave);
        Assert.That(single.shape, Is.EqualTo(new[] { 2L, 23L }));
        Assert.That(isfinite(single).all().item<bool>(), Is.True);
        var (batch, _) = fbank.Compute(stack(new[] { Pad(wave, 900), noise.narrow(0, 0, 900) }), tensor(new long[] { 250, 900 }));
        Assert.That(FeatureFixtures.MaxAbsDiff(batch[0].narrow(0, 0, 2), single), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void DefaultsAreTorchaudios()
    {
        var o = new FbankOptions();
        Assert.Multiple(() =>
        {
            Assert.That(o.NumMelBins, Is.EqualTo(23));
            Assert.That(FbankOptions.Default80.NumMelBins, Is.EqualTo(80));
            Assert.That(o.LowFreq, Is.EqualTo(20.0));
            Assert.That(o.HighFreq, Is.EqualTo(0.0));
            Assert.That(o.EnergyFloor, Is.EqualTo(1.0));
            Assert.That(o.Frame.Dither, Is.EqualTo(0.0));
            Assert.That(o.Frame.PreemphasisCoefficient, Is.EqualTo(0.97));
            Assert.That(o.Frame.WindowType, Is.EqualTo(KaldiWindowType.Povey));
            Assert.That(o.Frame.SnipEdges && o.Frame.RemoveDcOffset && o.Frame.RoundToPowerOfTwo && o.UseLogFbank && o.UsePower && o.RawEnergy, Is.True);
            Assert.That(o.UseEnergy || o.HtkCompat || o.SubtractMean, Is.False);
            Assert.That(new MfccOptions().UseEnergy, Is.True, "Kaldi's compute-mfcc-feats default");
            Assert.That(MfccOptions.Hubert.UseEnergy, Is.False);
        });
    }

    [Test]
    public void SeededDitherRepeatsAndChangesTheFeatures()
    {
        using var scope = NewDisposeScope();
        var wave = FeatureFixtures.Signal("noise");
        var options = new FbankOptions { Frame = new FrameOptions { Dither = 1e-2, DitherSeed = 42 } };
        var a = new Fbank(options).Compute(wave);
        var b = new Fbank(options).Compute(wave);
        var clean = new Fbank().Compute(wave);
        Assert.That(FeatureFixtures.MaxAbsDiff(a, b), Is.EqualTo(0.0));
        Assert.That(FeatureFixtures.MaxAbsDiff(a, clean), Is.GreaterThan(1e-3));
    }

    [Test]
    public void OutputStaysOnTheInputDeviceAndDType()
    {
        using var scope = NewDisposeScope();
        var wave = FeatureFixtures.Signal("noise").to(ScalarType.Float16);
        var f = new Fbank().Compute(wave);
        Assert.That(f.dtype, Is.EqualTo(ScalarType.Float32), "half input is computed in float32");
        Assert.That(f.device_type, Is.EqualTo(wave.device_type));
    }

    [Test]
    public void TooShortSignalIsANamedDataError()
    {
        using var scope = NewDisposeScope();
        var fbank = new Fbank();
        var ex = Assert.Throws<HArnessDataException>(() => fbank.Compute(zeros(399)));
        Assert.That(ex!.Message, Does.Contain("399 samples").And.Contain("bigger than the signal"));
        var batchEx = Assert.Throws<HArnessDataException>(() => fbank.Compute(zeros(2, 1000), tensor(new long[] { 1000, 300 })));
        Assert.That(batchEx!.Message, Does.Contain("Utterance 1"));
    }

    [Test]
    public void BadShapesAndLengthsAreNamedConfigErrors()
    {
        using var scope = NewDisposeScope();
        var fbank = new Fbank();
        Assert.That(Assert.Throws<HArnessConfigException>(() => fbank.Compute(zeros(2, 1000)))!.OptionName, Is.EqualTo("waveform"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => fbank.Compute(zeros(2, 1000), tensor(new long[] { 1000 })))!.OptionName, Is.EqualTo("lengths"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => fbank.Compute(zeros(2, 1000), tensor(new long[] { 1000, 1001 })))!.OptionName, Is.EqualTo("lengths"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => fbank.Compute(zeros(2, 1000), tensor(new[] { 1000f, 900f })))!.OptionName, Is.EqualTo("lengths"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => fbank.Compute(zeros(1000, ScalarType.Int32)))!.OptionName, Is.EqualTo("waveforms"));
    }

    private static IEnumerable<TestCaseData> InvalidOptions()
    {
        yield return new TestCaseData(new FbankOptions { HighFreq = 10.0 }, "HighFreq").SetName("Invalid_high_below_low");
        yield return new TestCaseData(new FbankOptions { HighFreq = 9000.0 }, "HighFreq").SetName("Invalid_high_above_nyquist");
        yield return new TestCaseData(new FbankOptions { LowFreq = 8000.0 }, "LowFreq").SetName("Invalid_low_at_nyquist");
        yield return new TestCaseData(new FbankOptions { NumMelBins = 2 }, "NumMelBins").SetName("Invalid_too_few_bins");
        yield return new TestCaseData(new FbankOptions { NumMelBins = 200 }, "NumMelBins").SetName("Invalid_too_many_bins_for_fft");
        yield return new TestCaseData(new FbankOptions { Frame = new FrameOptions { FrameLengthMs = 0.1 } }, "FrameLengthMs").SetName("Invalid_window_too_small");
        yield return new TestCaseData(new FbankOptions { Frame = new FrameOptions { FrameShiftMs = 0 } }, "FrameShiftMs").SetName("Invalid_zero_shift");
        yield return new TestCaseData(new FbankOptions { Frame = new FrameOptions { PreemphasisCoefficient = 1.5 } }, "PreemphasisCoefficient").SetName("Invalid_preemphasis");
        yield return new TestCaseData(new FbankOptions { Frame = new FrameOptions { Dither = -1 } }, "Dither").SetName("Invalid_dither");
        yield return new TestCaseData(new FbankOptions { Frame = new FrameOptions { RoundToPowerOfTwo = false, FrameLengthMs = 25.0625 } }, "RoundToPowerOfTwo").SetName("Invalid_odd_fft");
        yield return new TestCaseData(new FbankOptions { Frame = new FrameOptions { WindowType = (KaldiWindowType)17 } }, "WindowType").SetName("Invalid_window_type");
        yield return new TestCaseData(new FbankOptions { EnergyFloor = -1 }, "EnergyFloor").SetName("Invalid_energy_floor");
        yield return new TestCaseData(new FbankOptions { VtlnWarp = 0 }, "VtlnWarp").SetName("Invalid_vtln_warp");
        yield return new TestCaseData(new FbankOptions { VtlnWarp = 1.1, VtlnLow = 10 }, "VtlnLow").SetName("Invalid_vtln_low");
        yield return new TestCaseData(new FbankOptions { Frame = new FrameOptions { SampleRate = 0 } }, "SampleRate").SetName("Invalid_sample_rate");
    }

    [TestCaseSource(nameof(InvalidOptions))]
    public void InvalidOptionsAreRejectedWithTheirName(FbankOptions options, string optionName)
    {
        var ex = Assert.Throws<HArnessConfigException>(() => _ = new Fbank(options));
        Assert.That(ex!.OptionName, Is.EqualTo(optionName), ex.Message);
    }

    [Test]
    public void InvalidMfccOptionsAreRejectedWithTheirName()
    {
        Assert.That(Assert.Throws<HArnessConfigException>(() => _ = new Mfcc(new MfccOptions { NumCeps = 24 }))!.OptionName, Is.EqualTo("NumCeps"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => _ = new Mfcc(new MfccOptions { CepstralLifter = -1 }))!.OptionName, Is.EqualTo("CepstralLifter"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => _ = new Mfcc(new MfccOptions { HighFreq = -9000 }))!.OptionName, Is.EqualTo("HighFreq"));
    }
}
