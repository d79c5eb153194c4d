using HArnESS.Audio;
using NUnit.Framework;

namespace HArnESS.Tests.Audio;

public sealed class WavRoundTripTests
{
    private static readonly WavSampleFormat[] AllFormats = Enum.GetValues<WavSampleFormat>();

    /// <summary>A deterministic multi-channel test clip on the PCM8 grid (k/128), so every format stores it exactly.</summary>
    internal static AudioClip GridClip(int channels, int frames, int rate = 16000)
    {
        var samples = new float[frames * channels];
        for (var i = 0; i < samples.Length; i++) samples[i] = ((i * 37 % 255) - 127) / 128f;
        return new AudioClip(samples, rate, channels);
    }

    internal static AudioClip SineClip(int channels, int frames, int rate)
    {
        var samples = new float[frames * channels];
        for (var f = 0; f < frames; f++)
            for (var c = 0; c < channels; c++)
                samples[(f * channels) + c] = (float)(0.8 * Math.Sin(2 * Math.PI * (220 * (c + 1)) * f / rate));
        return new AudioClip(samples, rate, channels);
    }

    private static string TempPath(string name) => Path.Combine(TestContext.CurrentContext.WorkDirectory, $"wav-{Guid.NewGuid():N}-{name}");

    [Test]
    public void EveryFormatRoundTripsThroughAFile([ValueSource(nameof(AllFormats))] WavSampleFormat format, [Values(false, true)] bool extensible)
    {
        var clip = GridClip(channels: 3, frames: 501, rate: 22050);
        var path = TempPath($"{format}.wav");
        try
        {
            WavWriter.Write(path, clip, format, extensible);
            var info = WavReader.ReadInfo(path);
            Assert.That(info.Format, Is.EqualTo(format));
            Assert.That(info.Channels, Is.EqualTo(3));
            Assert.That(info.SampleRate, Is.EqualTo(22050));
            Assert.That(info.Frames, Is.EqualTo(501));
            Assert.That(info.IsExtensible, Is.EqualTo(extensible));
            var back = WavReader.Read(path);
            Assert.That(back.Samples, Is.EqualTo(clip.Samples));
            Assert.That(back.Channels, Is.EqualTo(3));
            Assert.That(back.SampleRate, Is.EqualTo(22050));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void QuantisationErrorIsBelowHalfAStep([ValueSource(nameof(AllFormats))] WavSampleFormat format)
    {
        var clip = SineClip(channels: 2, frames: 1000, rate: 16000);
        using var ms = new MemoryStream();
        WavWriter.Write(ms, clip, format);
        ms.Position = 0;
        var back = WavReader.Read(ms, "memory.wav");
        var step = format switch
        {
            WavSampleFormat.Pcm8 => 1 / 128.0,
            WavSampleFormat.Pcm16 => 1 / 32768.0,
            WavSampleFormat.Pcm24 => 1 / 8388608.0,
            _ => 1e-7,
        };
        for (var i = 0; i < clip.Samples.Length; i++)
            Assert.That(back.Samples[i], Is.EqualTo(clip.Samples[i]).Within((step / 2) + 1e-7), $"sample {i}");
    }

    [Test]
    public void ReadRangeReturnsExactlyTheRequestedFrames()
    {
        var clip = GridClip(channels: 2, frames: 4000);
        var path = TempPath("range.wav");
        try
        {
            WavWriter.Write(path, clip, WavSampleFormat.Pcm16);
            var part = WavReader.ReadRange(path, 1234, 100);
            Assert.That(part.Frames, Is.EqualTo(100));
            Assert.That(part.Samples, Is.EqualTo(clip.Samples.AsSpan(1234 * 2, 200).ToArray()));
            Assert.That(WavReader.ReadRange(path, 4000, 0).Frames, Is.EqualTo(0));
            var ex = Assert.Throws<HArnessConfigException>(() => WavReader.ReadRange(path, 3950, 100));
            Assert.That(ex!.Message, Does.Contain("4000 frames"));
            Assert.Throws<HArnessConfigException>(() => WavReader.ReadRange(path, -1, 10));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MonoOptionAveragesChannels()
    {
        var clip = new AudioClip([0.5f, -0.5f, 0.25f, 0.75f], 8000, channels: 2);
        using var ms = new MemoryStream();
        WavWriter.Write(ms, clip, WavSampleFormat.Float32);
        ms.Position = 0;
        var mono = WavReader.Read(ms, "stereo.wav", new WavReadOptions { Mono = true });
        Assert.That(mono.Channels, Is.EqualTo(1));
        Assert.That(mono.Samples, Is.EqualTo(new[] { 0f, 0.5f }));
    }

    [Test]
    public void ToTensorIsChannelsByFrames()
    {
        var clip = new AudioClip([1f, 2f, 3f, 4f, 5f, 6f], 8000, channels: 2);
        using var t = clip.ToTensor();
        Assert.That(t.shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(t[0].data<float>().ToArray(), Is.EqualTo(new[] { 1f, 3f, 5f }));
        Assert.That(t[1].data<float>().ToArray(), Is.EqualTo(new[] { 2f, 4f, 6f }));
        var back = AudioClip.FromTensor(t, 8000);
        Assert.That(back.Samples, Is.EqualTo(clip.Samples));
    }
}
