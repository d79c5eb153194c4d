using HArnESS.Audio;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Audio;

/// <summary>Shapes, batching, dtypes, caching and argument checks of <see cref="Resampler"/> / <see cref="AudioResample"/>.</summary>
public sealed class ResamplerTests
{
    private static Tensor Noise(params long[] shape)
    {
        using var g = new torch.Generator(42);
        return torch.rand(shape, generator: g) - 0.5f;
    }

    [TestCase(44100, 16000, 44100, 16000)]
    [TestCase(44100, 16000, 1000, 363)]   // ceil(1000 * 160 / 441) = 363
    [TestCase(16000, 44100, 1000, 2757)]  // ceil(1000 * 441 / 160) = 2757
    [TestCase(8000, 16000, 1, 2)]
    [TestCase(48000, 16000, 2, 1)]
    [TestCase(22050, 16000, 0, 0)]
    public void OutputLengthIsTheCeiling(int from, int to, int length, int expected)
    {
        using var r = new Resampler(from, to);
        Assert.That(r.OutputLength(length), Is.EqualTo(expected));
        Assert.That(AudioResample.OutputLength(length, from, to), Is.EqualTo(expected));
        using var x = torch.zeros(2, length);
        using var y = r.Forward(x);
        Assert.That(y.shape, Is.EqualTo(new long[] { 2, expected }));
    }

    [Test]
    public void BatchRowsEqualSingleRows()
    {
        using var scope = torch.NewDisposeScope();
        var batch = Noise(5, 3001);
        var together = AudioResample.Resample(batch, 22050, 16000);
        for (var i = 0; i < 5; i++)
        {
            var alone = AudioResample.Resample(batch[i], 22050, 16000);
            Assert.That(alone.shape, Is.EqualTo(new long[] { together.shape[1] }));
            Assert.That(torch.allclose(alone, together[i], rtol: 0, atol: 1e-6), Is.True, $"row {i}");
        }
    }

    [Test]
    public void LargeCpuBatchesSplitIntoCallsGiveTheSameRows()
    {
        // 3 rows of 200k samples exceed one CPU call (2^19 samples): rows go in calls of 2 + 1.
        using var scope = torch.NewDisposeScope();
        var batch = Noise(3, 200_000);
        Assert.That(ResampleKernel.CpuSamplesPerCall / 200_000, Is.EqualTo(2));
        var together = AudioResample.Resample(batch, 44100, 16000);
        Assert.That(together.shape, Is.EqualTo(new long[] { 3, 72_563 }));
        for (var i = 0; i < 3; i++)
        {
            var alone = AudioResample.Resample(batch[i].unsqueeze(0), 44100, 16000);
            Assert.That(torch.allclose(alone[0], together[i], rtol: 0, atol: 1e-6), Is.True, $"row {i}");
        }
    }

    [Test]
    public void LeadingDimensionsAreKept()
    {
        using var scope = torch.NewDisposeScope();
        var x = Noise(2, 3, 800);
        var y = AudioResample.Resample(x, 8000, 16000);
        Assert.That(y.shape, Is.EqualTo(new long[] { 2, 3, 1600 }));
        var flat = AudioResample.Resample(x.reshape(6, 800), 8000, 16000);
        Assert.That(torch.allclose(y.reshape(6, 1600), flat, rtol: 0, atol: 0), Is.True);
    }

    [Test]
    public void Float64InputGivesFloat64OutputMatchingFloat32()
    {
        using var scope = torch.NewDisposeScope();
        var x = Noise(2, 4410);
        var y32 = AudioResample.Resample(x, 44100, 16000);
        var y64 = AudioResample.Resample(x.to(ScalarType.Float64), 44100, 16000);
        Assert.That(y64.dtype, Is.EqualTo(ScalarType.Float64));
        Assert.That((y64 - y32.to(ScalarType.Float64)).abs().max().item<double>(), Is.LessThan(1e-5));
    }

    [Test]
    public void EqualRatesReturnTheSamplesUnchanged()
    {
        using var scope = torch.NewDisposeScope();
        var x = Noise(2, 100);
        var y = AudioResample.Resample(x, 16000, 16000);
        Assert.That(torch.allclose(x, y, rtol: 0, atol: 0), Is.True);
    }

    [Test]
    public void RoundTripThroughAnotherRateKeepsBandLimitedSpeech()
    {
        // 16 kHz speech -> 48 kHz -> 16 kHz: the content below 7.9 kHz survives almost untouched.
        var clip = WavReader.Read(Path.Combine(AudioFixtures.Dir("resample"), "en_16000.wav"));
        var up = AudioResample.Resample(clip, 48000);
        Assert.That(up.SampleRate, Is.EqualTo(48000));
        Assert.That(up.Frames, Is.EqualTo(clip.Frames * 3));
        var back = AudioResample.Resample(up, 16000);
        var snr = AudioFixtures.SnrDb(clip.Samples.AsSpan(100, clip.Samples.Length - 200), back.Samples.AsSpan(100, back.Samples.Length - 200));
        TestContext.Out.WriteLine($"MEASURE 16k->48k->16k speech round trip: {snr:F1} dB");
        Assert.That(snr, Is.GreaterThanOrEqualTo(25));
    }

    [Test]
    public void ClipResamplingKeepsChannelsApart()
    {
        var clip = WavReader.Read(Path.Combine(AudioFixtures.Dir("wav"), "pcm16_stereo.wav"));
        var resampled = AudioResample.Resample(clip, 8000);
        Assert.That(resampled.Channels, Is.EqualTo(2));
        using var left = torch.tensor(clip.GetChannel(0)).unsqueeze(0);
        using var expected = AudioResample.Resample(left, clip.SampleRate, 8000);
        Assert.That(resampled.GetChannel(0), Is.EqualTo(expected[0].data<float>().ToArray()).Within(1e-6));
        Assert.That(AudioResample.Resample(clip, clip.SampleRate), Is.SameAs(clip));
    }

    [Test]
    public void KernelsAreCachedPerRatePairAndDtype()
    {
        AudioResample.ClearKernelCache();
        using var scope = torch.NewDisposeScope();
        var x = Noise(1, 1000);
        for (var i = 0; i < 3; i++) AudioResample.Resample(x, 44100, 16000);
        Assert.That(ResampleKernel.CachedCount, Is.EqualTo(1));
        AudioResample.Resample(x, 88200, 32000); // same reduced ratio 441/160 and options: same kernel
        Assert.That(ResampleKernel.CachedCount, Is.EqualTo(1));
        AudioResample.Resample(x.to(ScalarType.Float64), 44100, 16000);
        AudioResample.Resample(x, 44100, 16000, ResamplerOptions.KaiserFast);
        Assert.That(ResampleKernel.CachedCount, Is.EqualTo(3));
    }

    [Test]
    public void CachedKernelSurvivesTheCallersDisposeScope()
    {
        AudioResample.ClearKernelCache();
        float[] first;
        using (var scope = torch.NewDisposeScope())
        {
            first = AudioResample.Resample(Noise(1, 500), 24000, 16000).data<float>().ToArray();
        }
        using var again = Noise(1, 500);
        using var y = AudioResample.Resample(again, 24000, 16000);
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(first));
    }

    [Test]
    public void KernelTapsMatchTorchaudioLayout()
    {
        // 44.1k -> 16k: gcd 100, 441 -> 160, width ceil(6 * 441 / (160 * 0.99)) = 17, taps 2 * 17 + 441.
        using var r = new Resampler(44100, 16000);
        Assert.That(r.FilterTaps, Is.EqualTo(475));
        Assert.That(ResampleKernel.BesselI0(0), Is.EqualTo(1.0));
        Assert.That(ResampleKernel.BesselI0(14.769656459379492), Is.EqualTo(271903.6406814566).Within(1e-6)); // torch.i0(14.769656459379492), float64
    }

    [Test]
    public void BadArgumentsAreNamed()
    {
        Assert.That(Assert.Throws<HArnessConfigException>(() => new Resampler(0, 16000))!.OptionName, Is.EqualTo("fromRate"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => new Resampler(16000, -1))!.OptionName, Is.EqualTo("toRate"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => new Resampler(16000, 8000, new ResamplerOptions { LowpassFilterWidth = 0 }))!.OptionName,
            Is.EqualTo("LowpassFilterWidth"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => new Resampler(16000, 8000, new ResamplerOptions { Rolloff = 1.5 }))!.OptionName,
            Is.EqualTo("Rolloff"));
        Assert.That(Assert.Throws<HArnessConfigException>(() => new Resampler(16000, 8000, new ResamplerOptions { Beta = double.NaN }))!.OptionName,
            Is.EqualTo("Beta"));
        using var ints = torch.zeros(new long[] { 1, 10 }, ScalarType.Int16);
        Assert.That(Assert.Throws<HArnessConfigException>(() => AudioResample.Resample(ints, 16000, 8000))!.Message, Does.Contain("floating-point"));
        using var scalar = torch.tensor(1f);
        Assert.Throws<HArnessConfigException>(() => AudioResample.Resample(scalar, 16000, 8000));
    }
}
