using HArnESS.Audio;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Audio;

/// <summary>
/// Signal-level checks of the resampler: stop-band (aliasing) rejection of tones and a sweep above the new Nyquist,
/// pass-band accuracy against ideal tones, and images when upsampling. The thresholds sit just below the measured
/// values printed as MEASURE lines.
/// </summary>
public sealed class ResamplerQualityTests
{
    private const int Edge = 100; // output samples dropped at each end (zero-padding transients of the FIR)

    private static float[] Tone(double freq, int rate, int samples, double amplitude = 0.5, double phase = 0.3)
    {
        var x = new float[samples];
        for (var i = 0; i < samples; i++) x[i] = (float)(amplitude * Math.Sin((2 * Math.PI * freq * i / rate) + phase));
        return x;
    }

    /// <summary>Resamples all signals as one batch <c>[signals, time]</c>; returns the rows.</summary>
    private static float[][] Resample(IReadOnlyList<float[]> signals, int from, int to, ResamplerOptions? options = null)
    {
        using var scope = torch.NewDisposeScope();
        var input = torch.stack(signals.Select(s => torch.tensor(s)).ToArray());
        var y = AudioResample.Resample(input, from, to, options);
        return Enumerable.Range(0, signals.Count).Select(i => y[i].data<float>().ToArray()).ToArray();
    }

    private static double PowerDb(ReadOnlySpan<float> x)
    {
        double s = 0;
        foreach (var v in x) s += (double)v * v;
        return 10 * Math.Log10(Math.Max(s / x.Length, 1e-300));
    }

    private static ReadOnlySpan<float> Middle(float[] y) => y.AsSpan(Edge, y.Length - (2 * Edge));

    /// <summary>Worst (highest) output/input power ratio, in dB, of tones from <paramref name="lowest"/> Hz up to 0.95 × the input Nyquist.</summary>
    private static (double Db, double Freq) WorstAlias(int from, double lowest, ResamplerOptions options)
    {
        var freqs = new List<double>();
        for (var f = lowest; f < 0.95 * from / 2; f += 250) freqs.Add(f);
        var tones = freqs.Select(f => Tone(f, from, from / 5)).ToArray();
        var outputs = Resample(tones, from, 16000, options);
        var worst = (Db: double.NegativeInfinity, Freq: 0.0);
        for (var i = 0; i < freqs.Count; i++)
        {
            var db = PowerDb(Middle(outputs[i])) - PowerDb(tones[i]);
            if (db > worst.Db) worst = (db, freqs[i]);
        }
        return worst;
    }

    [Test]
    public void DefaultFilterSuppressesTonesFrom10kHz([Values(22050, 24000, 32000, 44100, 48000)] int from)
    {
        // torchaudio's default (Hann, 6 zero crossings, roll-off 0.99) has a wide transition band: 9 kHz is only
        // 16.8 dB down; from 10 kHz on it is at least 44 dB down.
        var (db, freq) = WorstAlias(from, 10000, ResamplerOptions.Default);
        TestContext.Out.WriteLine($"MEASURE alias default {from}->16000, tones >= 10 kHz: worst {db:F1} dB at {freq} Hz");
        Assert.That(db, Is.LessThanOrEqualTo(-42), $"worst alias at {freq} Hz");
        var (db9, _) = WorstAlias(from, 9000, ResamplerOptions.Default);
        TestContext.Out.WriteLine($"MEASURE alias default {from}->16000, tones >= 9 kHz: worst {db9:F1} dB");
        Assert.That(db9, Is.LessThanOrEqualTo(-15));
    }

    [Test]
    public void KaiserPresetsSuppressEverythingAboveTheNewNyquist([Values(22050, 44100, 48000)] int from)
    {
        var (best, bestFreq) = WorstAlias(from, 8100, ResamplerOptions.KaiserBest);
        var (fast, fastFreq) = WorstAlias(from, 8100, ResamplerOptions.KaiserFast);
        TestContext.Out.WriteLine($"MEASURE alias kaiser_best {from}->16000, tones >= 8.1 kHz: worst {best:F1} dB at {bestFreq} Hz");
        TestContext.Out.WriteLine($"MEASURE alias kaiser_fast {from}->16000, tones >= 8.1 kHz: worst {fast:F1} dB at {fastFreq} Hz");
        Assert.That(best, Is.LessThanOrEqualTo(-98));
        Assert.That(fast, Is.LessThanOrEqualTo(-87));
    }

    [Test]
    public void SweepAboveTheNewNyquistIsSuppressed([Values(44100, 48000)] int from)
    {
        // Linear chirp over 1 s from 10 kHz to 0.95 × the input Nyquist.
        double f0 = 10000, f1 = 0.95 * from / 2;
        var x = new float[from];
        for (var i = 0; i < x.Length; i++)
        {
            var t = (double)i / from;
            x[i] = (float)(0.5 * Math.Sin(2 * Math.PI * ((f0 * t) + ((f1 - f0) * t * t / 2))));
        }
        var y = Resample([x], from, 16000)[0];
        var yBest = Resample([x], from, 16000, ResamplerOptions.KaiserBest)[0];
        var db = PowerDb(Middle(y)) - PowerDb(x);
        var dbBest = PowerDb(Middle(yBest)) - PowerDb(x);
        TestContext.Out.WriteLine($"MEASURE sweep {from}->16000 (10 kHz..{f1:F0} Hz): default {db:F1} dB, kaiser_best {dbBest:F1} dB");
        Assert.That(db, Is.LessThanOrEqualTo(-54));
        Assert.That(dbBest, Is.LessThanOrEqualTo(-145));
    }

    [Test]
    public void PassBandTonesAreKept([Values(8000, 11025, 22050, 24000, 32000, 44100, 48000)] int from)
    {
        // Tones up to 60 % of the lower Nyquist, resampled, against the same tone sampled at 16 kHz directly.
        var nyquist = Math.Min(from, 16000) / 2.0;
        var freqs = new[] { 0.05, 0.2, 0.4, 0.6 }.Select(r => r * nyquist).ToArray();
        var outputs = Resample(freqs.Select(f => Tone(f, from, from / 4)).ToArray(), from, 16000);
        var worst = double.PositiveInfinity;
        for (var i = 0; i < freqs.Length; i++)
        {
            var ideal = Tone(freqs[i], 16000, outputs[i].Length);
            worst = Math.Min(worst, AudioFixtures.SnrDb(Middle(ideal), Middle(outputs[i])));
        }
        TestContext.Out.WriteLine($"MEASURE passband {from}->16000 (tones <= {0.6 * nyquist:F0} Hz): worst SNR vs ideal {worst:F1} dB");
        Assert.That(worst, Is.GreaterThanOrEqualTo(47));
    }

    [Test]
    public void ResamplingFrom16kHzLeavesNoImages([Values(8000, 11025, 22050, 24000, 32000, 44100, 48000)] int to)
    {
        // Tones up to 60 % of the lower Nyquist at 16 kHz, brought to `to`: images or aliases show as error
        // against the ideal tone at `to`.
        var nyquist = Math.Min(to, 16000) / 2.0;
        var freqs = new[] { 0.05, 0.2, 0.4, 0.6 }.Select(r => r * nyquist).ToArray();
        var outputs = Resample(freqs.Select(f => Tone(f, 16000, 4000)).ToArray(), 16000, to);
        var worst = double.PositiveInfinity;
        var edge = 3 * Edge;
        for (var i = 0; i < freqs.Length; i++)
        {
            var y = outputs[i];
            var ideal = Tone(freqs[i], to, y.Length);
            worst = Math.Min(worst, AudioFixtures.SnrDb(ideal.AsSpan(edge, y.Length - (2 * edge)), y.AsSpan(edge, y.Length - (2 * edge))));
        }
        TestContext.Out.WriteLine($"MEASURE 16000->{to} (tones <= {0.6 * nyquist:F0} Hz): worst SNR vs ideal {worst:F1} dB");
        Assert.That(worst, Is.GreaterThanOrEqualTo(47));
    }
}
