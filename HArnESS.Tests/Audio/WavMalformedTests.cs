using HArnESS.Audio;
using NUnit.Framework;

namespace HArnESS.Tests.Audio;

/// <summary>One test per kind of bad input: each is rejected with a <see cref="HArnessFormatException"/> that names the file and the fault.</summary>
public sealed class WavMalformedTests
{
    private const string Name = "bad/input.wav";

    private static HArnessFormatException Reject(byte[] bytes, WavReadOptions? options = null)
    {
        var ex = Assert.Throws<HArnessFormatException>(() => WavReader.Read(new MemoryStream(bytes), Name, options))!;
        Assert.That(ex.FilePath, Is.EqualTo(Name));
        Assert.That(ex.Message, Does.Contain(Name));
        // The header-only path must agree.
        Assert.Throws<HArnessFormatException>(() => WavReader.ReadInfo(new MemoryStream(bytes), Name, options));
        return ex;
    }

    private static readonly byte[] GoodFmt = WavBytes.Fmt();

    [Test]
    public void NotRiff()
    {
        var ex = Reject("OggS\0\0\0\0\0\0\0\0\0\0\0\0"u8.ToArray());
        Assert.That(ex.Message, Does.Contain("'OggS'").And.Contain("expected 'RIFF'"));
    }

    [Test]
    public void TooShortForAHeader() =>
        Assert.That(Reject("RIFF"u8.ToArray()).Message, Does.Contain("only 4 bytes"));

    [Test]
    public void EmptyStream() =>
        Assert.That(Reject([]).Message, Does.Contain("only 0 bytes"));

    [Test]
    public void RiffButNotWave() =>
        Assert.That(Reject(WavBytes.RiffWithForm("RIFF", "AVI ", WavBytes.Chunk("data", new byte[4]))).Message,
            Does.Contain("'AVI '").And.Contain("expected 'WAVE'"));

    [Test]
    public void Rf64IsNamed() =>
        Assert.That(Reject(WavBytes.RiffWithForm("RF64", "WAVE", WavBytes.Chunk("fmt ", GoodFmt))).Message, Does.Contain("RF64"));

    [Test]
    public void MissingFmtChunk()
    {
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("LIST", new byte[6]))).Message, Does.Contain("no fmt chunk"));
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("data", WavBytes.Pcm16(1, 2)))).Message,
            Does.Contain("data chunk").And.Contain("before any fmt chunk"));
    }

    [Test]
    public void MissingDataChunk() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", GoodFmt), WavBytes.Chunk("LIST", new byte[4]))).Message,
            Does.Contain("no data chunk"));

    [Test]
    public void TruncatedDataIsRejectedWithTheByteCounts()
    {
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", GoodFmt), WavBytes.Chunk("data", WavBytes.Pcm16(1, 2, 3, 4, 5), declaredSize: 1000));
        var ex = Reject(bytes);
        Assert.That(ex.Message, Does.Contain("truncated").And.Contain("declares 1000 bytes").And.Contain("only 10 bytes")
            .And.Contain("5 of 500 frames"));
    }

    [Test]
    public void TruncatedDataCanBeReadWhenAllowed()
    {
        // 5 whole frames and half of a sixth are present; the half frame is dropped.
        var data = WavBytes.Pcm16(1000, -1000, 2000, -2000, 16384).Append((byte)7).ToArray();
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", GoodFmt), WavBytes.Chunk("data", data, declaredSize: 0xFFFFFFFF, pad: false));
        var options = new WavReadOptions { AllowTruncated = true };
        var info = WavReader.ReadInfo(new MemoryStream(bytes), Name, options);
        Assert.That(info.IsTruncated, Is.True);
        Assert.That(info.DeclaredDataBytes, Is.EqualTo(0xFFFFFFFFL));
        Assert.That(info.Frames, Is.EqualTo(5));
        var clip = WavReader.Read(new MemoryStream(bytes), Name, options);
        Assert.That(clip.Samples, Is.EqualTo(new[] { 1000 / 32768f, -1000 / 32768f, 2000 / 32768f, -2000 / 32768f, 0.5f }));
    }

    [Test]
    public void ChunkSizeBeyondTheFile()
    {
        // A LIST chunk claiming 2 GB in a 60-byte file: named, and nothing of that size is allocated.
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", GoodFmt), WavBytes.Chunk("LIST", new byte[4], declaredSize: 0x7FFFFFF0),
            WavBytes.Chunk("data", WavBytes.Pcm16(1, 2)));
        var ex = Reject(bytes);
        Assert.That(ex.Message, Does.Contain("chunk 'LIST'").And.Contain("declares 2147483632 bytes").And.Contain("only"));
    }

    [Test]
    public void FmtChunkSizeBeyondTheFile() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", GoodFmt, declaredSize: 0xFFFFFFF0))).Message,
            Does.Contain("chunk 'fmt '").And.Contain("declares 4294967280 bytes"));

    [Test]
    public void FmtChunkTooSmall() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", new byte[10]), WavBytes.Chunk("data", new byte[2]))).Message,
            Does.Contain("fmt chunk has 10 bytes"));

    [Test]
    public void ZeroChannels() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(channels: 0, blockAlign: 2)), WavBytes.Chunk("data", new byte[2]))).Message,
            Does.Contain("0 channels"));

    [Test]
    public void ZeroSampleRate() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(rate: 0)), WavBytes.Chunk("data", new byte[2]))).Message,
            Does.Contain("sample rate of 0 Hz"));

    [Test]
    public void BlockAlignInconsistent() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(channels: 2, blockAlign: 3)), WavBytes.Chunk("data", new byte[6]))).Message,
            Does.Contain("block align is 3 bytes").And.Contain("make 4"));

    [Test]
    public void ZeroBlockAlignIsRejectedNotDividedBy() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(blockAlign: 0)), WavBytes.Chunk("data", new byte[6]))).Message,
            Does.Contain("block align is 0 bytes"));

    [TestCase(0x0055, "MP3")]
    [TestCase(0x0002, "ADPCM")]
    [TestCase(0x0011, "IMA ADPCM")]
    [TestCase(0x0006, "A-law")]
    [TestCase(0x1234, "compressed or unknown")]
    public void UnsupportedCodec(int tag, string codecName)
    {
        var ex = Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(tag: tag, bits: 4, blockAlign: 1)), WavBytes.Chunk("data", new byte[8])));
        Assert.That(ex.Message, Does.Contain($"0x{tag:X4}").And.Contain(codecName));
    }

    [Test]
    public void ExtensibleWithUnknownSubFormat()
    {
        var fmt = WavBytes.FmtExtensible(1, 1, 16, 16, guidTail: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", fmt), WavBytes.Chunk("data", new byte[2]))).Message,
            Does.Contain("sub-format"));
    }

    [Test]
    public void ExtensibleWithCompressedSubFormat() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.FmtExtensible(0x0055, 1, 16, 16)), WavBytes.Chunk("data", new byte[2]))).Message,
            Does.Contain("0x0055"));

    [Test]
    public void ExtensibleFmtTooShort() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(tag: 0xFFFE)), WavBytes.Chunk("data", new byte[2]))).Message,
            Does.Contain("WAVE_FORMAT_EXTENSIBLE"));

    [Test]
    public void ValidBitsLargerThanContainer() =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.FmtExtensible(1, 1, 16, 24)), WavBytes.Chunk("data", new byte[2]))).Message,
            Does.Contain("24 valid bits"));

    [TestCase(3, 16, "IEEE float with 16 bits")]
    [TestCase(1, 40, "PCM with 40 bits")]
    [TestCase(1, 0, "0 bits per sample")]
    public void UnsupportedSampleSize(int tag, int bits, string expected) =>
        Assert.That(Reject(WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(tag: tag, bits: bits, blockAlign: Math.Max(1, bits / 8))), WavBytes.Chunk("data", new byte[10]))).Message,
            Does.Contain(expected));

    [Test]
    public void SoxWrittenCompressedFilesAreRejected()
    {
        foreach (var entry in AudioFixtures.Index("wav").GetProperty("unsupported").EnumerateArray())
        {
            var path = Path.Combine(AudioFixtures.Dir("wav"), entry.GetProperty("file").GetString()!);
            var tag = entry.GetProperty("tag").GetInt32();
            var ex = Assert.Throws<HArnessFormatException>(() => WavReader.Read(path), path)!;
            Assert.That(ex.Message, Does.Contain(path).And.Contain($"0x{tag:X4}"));
            Assert.That(ex.FilePath, Is.EqualTo(path));
        }
    }

    [Test]
    public void MissingFileIsADataError()
    {
        var ex = Assert.Throws<HArnessDataException>(() => WavReader.Read("/nonexistent/dir/none.wav"))!;
        Assert.That(ex.FilePath, Is.EqualTo("/nonexistent/dir/none.wav"));
    }

    [Test]
    public void RandomCorruptionNeverEscapesAsAnotherException()
    {
        // Mutate header and data bytes of a valid file at random: every outcome is a clip or a HArnessFormatException,
        // never IndexOutOfRange, OverflowException, OutOfMemory or an endless loop.
        var clip = WavRoundTripTests.GridClip(channels: 2, frames: 40);
        using var ms = new MemoryStream();
        WavWriter.Write(ms, clip, WavSampleFormat.Pcm24, extensible: true);
        var original = ms.ToArray();
        var random = new Random(7);
        int ok = 0, rejected = 0;
        for (var trial = 0; trial < 3000; trial++)
        {
            var bytes = (byte[])original.Clone();
            var edits = random.Next(1, 5);
            for (var e = 0; e < edits; e++) bytes[random.Next(Math.Min(bytes.Length, 80))] = (byte)random.Next(256);
            if (random.Next(4) == 0) Array.Resize(ref bytes, random.Next(bytes.Length));
            try
            {
                var read = WavReader.Read(new MemoryStream(bytes), Name, new WavReadOptions { AllowTruncated = random.Next(2) == 0 });
                Assert.That(read.Samples.Length, Is.LessThanOrEqualTo(bytes.Length));
                ok++;
            }
            catch (HArnessFormatException)
            {
                rejected++;
            }
        }
        TestContext.Out.WriteLine($"corrupted files: {ok} read, {rejected} rejected");
        Assert.That(ok, Is.GreaterThan(0));
        Assert.That(rejected, Is.GreaterThan(0));
    }
}
