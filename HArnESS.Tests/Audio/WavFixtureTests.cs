using System.Buffers.Binary;
using HArnESS.Audio;
using NUnit.Framework;

namespace HArnESS.Tests.Audio;

/// <summary>
/// Interoperability with sox in both directions: files sox wrote in every supported encoding read to exactly what
/// torchaudio.load returns, and our writer reproduces sox's bytes for the same samples.
/// </summary>
public sealed class WavFixtureTests
{
    public sealed record Entry(string File, string Reference, int Rate, int Channels, int Frames, string Format)
    {
        public override string ToString() => File;
    }

    public static IEnumerable<Entry> Supported() =>
        AudioFixtures.Index("wav").GetProperty("supported").EnumerateArray().Select(e => new Entry(
            e.GetProperty("file").GetString()!, e.GetProperty("reference").GetString()!, e.GetProperty("rate").GetInt32(),
            e.GetProperty("channels").GetInt32(), e.GetProperty("frames").GetInt32(), e.GetProperty("format").GetString()!));

    private static string PathOf(string file) => Path.Combine(AudioFixtures.Dir("wav"), file);

    private static WavSampleFormat FormatOf(Entry e) => e.Format switch
    {
        "pcm8" => WavSampleFormat.Pcm8,
        "pcm16" => WavSampleFormat.Pcm16,
        "pcm24" => WavSampleFormat.Pcm24,
        "pcm32" => WavSampleFormat.Pcm32,
        "float32" => WavSampleFormat.Float32,
        "float64" => WavSampleFormat.Float64,
        _ => throw new ArgumentException(e.Format),
    };

    [TestCaseSource(nameof(Supported))]
    public void SoxFileReadsAsTorchaudioLoads(Entry e)
    {
        var info = WavReader.ReadInfo(PathOf(e.File));
        Assert.That(info.SampleRate, Is.EqualTo(e.Rate));
        Assert.That(info.Channels, Is.EqualTo(e.Channels));
        Assert.That(info.Frames, Is.EqualTo(e.Frames));
        Assert.That(info.Format, Is.EqualTo(FormatOf(e)));

        var clip = WavReader.Read(PathOf(e.File));
        var reference = AudioFixtures.ReadF32(PathOf(e.Reference)); // [channels, frames]
        using var t = clip.ToTensor();
        Assert.That(t.shape, Is.EqualTo(new long[] { e.Channels, e.Frames }));
        Assert.That(t.data<float>().ToArray(), Is.EqualTo(reference).Within(1e-7));

        // A range from the middle equals the same slice of the whole file.
        var part = WavReader.ReadRange(PathOf(e.File), 700, 33);
        Assert.That(part.Samples, Is.EqualTo(clip.Samples.AsSpan(700 * e.Channels, 33 * e.Channels).ToArray()));

        // Downmix on request.
        var mono = WavReader.Read(PathOf(e.File), new WavReadOptions { Mono = true });
        Assert.That(mono.Channels, Is.EqualTo(1));
        Assert.That(mono.Samples, Is.EqualTo(clip.ToMono().Samples));
    }

    [TestCaseSource(nameof(Supported))]
    public void OurWriterReproducesSoxSamplesAndFormat(Entry e)
    {
        var soxBytes = File.ReadAllBytes(PathOf(e.File));
        var soxInfo = WavReader.ReadInfo(PathOf(e.File));
        var clip = WavReader.Read(PathOf(e.File));
        using var ms = new MemoryStream();
        WavWriter.Write(ms, clip, FormatOf(e), extensible: soxInfo.IsExtensible);
        var ours = ms.ToArray();
        var ourInfo = WavReader.ReadInfo(new MemoryStream(ours), "ours.wav");

        Assert.That(ourInfo with { DataOffset = 0 }, Is.EqualTo(soxInfo with { DataOffset = 0 }));
        var dataBytes = (int)soxInfo.DeclaredDataBytes;
        Assert.That(ours.AsSpan((int)ourInfo.DataOffset, dataBytes).SequenceEqual(soxBytes.AsSpan((int)soxInfo.DataOffset, dataBytes)),
            "data chunk bytes differ from sox's");
        // The fmt chunk body (format tag, channels, rate, byte rate, block align, bits, extension) is the same as sox's.
        Assert.That(FmtBody(ours).SequenceEqual(FmtBody(soxBytes)), "fmt chunk differs from sox's");
    }

    private static byte[] FmtBody(byte[] file)
    {
        Assert.That(file.AsSpan(12, 4).SequenceEqual("fmt "u8));
        var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(16));
        return file.AsSpan(20, size).ToArray();
    }
}
