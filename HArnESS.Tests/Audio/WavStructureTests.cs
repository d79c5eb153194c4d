using HArnESS.Audio;
using NUnit.Framework;

namespace HArnESS.Tests.Audio;

/// <summary>Valid but unusual layouts: extra chunks, odd sizes and padding, non-seekable streams, header fields.</summary>
public sealed class WavStructureTests
{
    private static readonly short[] Samples = [100, -200, 300, -400, 500, -600];

    private static float[] Expected => Samples.Select(s => s / 32768f).ToArray();

    [Test]
    public void UnknownAndOddSizedChunksAreSkipped()
    {
        // An odd LIST chunk (5 bytes + pad byte), a fact chunk and a JUNK chunk before the data, a cue chunk after it.
        var bytes = WavBytes.Riff(
            WavBytes.Chunk("LIST", [1, 2, 3, 4, 5]),
            WavBytes.Chunk("fmt ", WavBytes.Fmt()),
            WavBytes.Chunk("fact", [6, 0, 0, 0]),
            WavBytes.Chunk("JUNK", new byte[7]),
            WavBytes.Chunk("data", WavBytes.Pcm16(Samples)),
            WavBytes.Chunk("cue ", new byte[3]));
        var info = WavReader.ReadInfo(new MemoryStream(bytes), "chunks.wav");
        Assert.That(info.DataOffset, Is.EqualTo(12 + 14 + 24 + 12 + 16 + 8));
        Assert.That(info.Frames, Is.EqualTo(6));
        Assert.That(WavReader.Read(new MemoryStream(bytes), "chunks.wav").Samples, Is.EqualTo(Expected));
    }

    [Test]
    public void OddDataChunkWithoutItsPadByteAtTheEndIsAccepted()
    {
        // 8-bit mono, 3 samples: the data chunk is odd and the file ends without the pad byte.
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(bits: 8)), WavBytes.Chunk("data", [0, 128, 255], pad: false));
        var clip = WavReader.Read(new MemoryStream(bytes), "odd.wav");
        Assert.That(clip.Samples, Is.EqualTo(new[] { -1f, 0f, 127 / 128f }));
    }

    [Test]
    public void LargeFmtChunkIsAcceptedAndSkipped()
    {
        // A plain PCM fmt chunk with 20 extra bytes (some writers add cbSize and padding).
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(extraBytes: 20)), WavBytes.Chunk("data", WavBytes.Pcm16(Samples)));
        Assert.That(WavReader.Read(new MemoryStream(bytes), "bigfmt.wav").Samples, Is.EqualTo(Expected));
    }

    [Test]
    public void TwelveBitPcmInSixteenBitContainersReadsAsPcm16()
    {
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(bits: 12, blockAlign: 2)), WavBytes.Chunk("data", WavBytes.Pcm16(Samples)));
        var info = WavReader.ReadInfo(new MemoryStream(bytes), "12bit.wav");
        Assert.That(info.Format, Is.EqualTo(WavSampleFormat.Pcm16));
        Assert.That(WavReader.Read(new MemoryStream(bytes), "12bit.wav").Samples, Is.EqualTo(Expected));
    }

    [Test]
    public void ExtensibleWithFewerValidBits()
    {
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.FmtExtensible(1, 2, 16, 12)), WavBytes.Chunk("data", WavBytes.Pcm16(Samples)));
        var info = WavReader.ReadInfo(new MemoryStream(bytes), "ext.wav");
        Assert.That(info.IsExtensible, Is.True);
        Assert.That(info.ValidBitsPerSample, Is.EqualTo(12));
        Assert.That(info.BitsPerSample, Is.EqualTo(16));
        Assert.That(info.ChannelMask, Is.EqualTo(4u));
        Assert.That(info.Frames, Is.EqualTo(3));
        Assert.That(WavReader.Read(new MemoryStream(bytes), "ext.wav").Samples, Is.EqualTo(Expected));
    }

    [Test]
    public void NonSeekableStreamIsRead()
    {
        var bytes = WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt()), WavBytes.Chunk("data", WavBytes.Pcm16(Samples)));
        using var stream = new ForwardOnlyStream(bytes);
        Assert.That(WavReader.Read(stream, "pipe").Samples, Is.EqualTo(Expected));
        using var again = new ForwardOnlyStream(bytes);
        var ex = Assert.Throws<HArnessConfigException>(() => WavReader.ReadRange(again, "pipe", 0, 1))!;
        Assert.That(ex.Message, Does.Contain("pipe").And.Contain("cannot seek"));
    }

    [Test]
    public void StreamIsReadFromItsCurrentPosition()
    {
        var wav = WavBytes.Riff(WavBytes.Chunk("fmt ", WavBytes.Fmt(channels: 2)), WavBytes.Chunk("data", WavBytes.Pcm16(Samples)));
        var bytes = new byte[7].Concat(wav).ToArray();
        using var stream = new MemoryStream(bytes) { Position = 7 };
        var info = WavReader.ReadInfo(stream, "embedded");
        Assert.That(info.DataOffset, Is.EqualTo(44));
        stream.Position = 7;
        var part = WavReader.ReadRange(stream, "embedded", 1, 2);
        Assert.That(part.Samples, Is.EqualTo(Expected[2..]));
    }

    [Test]
    public void HeaderFieldsOfAPlainPcmFile()
    {
        var clip = WavRoundTripTests.GridClip(channels: 2, frames: 300, rate: 44100);
        using var ms = new MemoryStream();
        WavWriter.Write(ms, clip);
        Assert.That(ms.Length, Is.EqualTo(44 + (300 * 4)));
        ms.Position = 0;
        var info = WavReader.ReadInfo(ms, "plain.wav");
        Assert.That(info, Is.EqualTo(new WavInfo
        {
            SampleRate = 44100, Channels = 2, BitsPerSample = 16, ValidBitsPerSample = 16, Format = WavSampleFormat.Pcm16,
            Frames = 300, DataOffset = 44, BlockAlign = 4, FormatTag = 1, IsExtensible = false, ChannelMask = 0,
            DeclaredDataBytes = 1200, IsTruncated = false,
        }));
        Assert.That(info.Duration.TotalMilliseconds, Is.EqualTo(300 * 1000.0 / 44100).Within(1e-4));
    }

    [Test]
    public void WriterPadsOddDataAndClipsOutOfRangeSamples()
    {
        var clip = new AudioClip([2f, -2f, 0.5f, float.NaN, -1f], 8000);
        using var ms = new MemoryStream();
        WavWriter.Write(ms, clip, WavSampleFormat.Pcm8);
        Assert.That(ms.Length % 2, Is.EqualTo(0), "RIFF chunks are padded to even sizes");
        ms.Position = 0;
        var back = WavReader.Read(ms, "odd8.wav");
        Assert.That(back.Samples, Is.EqualTo(new[] { 127 / 128f, -1f, 0.5f, 0f, -1f }));
    }

    [Test]
    public void AudioClipRejectsInconsistentArguments()
    {
        Assert.Throws<HArnessConfigException>(() => _ = new AudioClip(new float[5], 16000, channels: 2));
        Assert.Throws<HArnessConfigException>(() => _ = new AudioClip(new float[4], 0));
        Assert.Throws<HArnessConfigException>(() => _ = new AudioClip(new float[4], 16000, channels: 0));
        var clip = new AudioClip([1, 2, 3, 4], 16000, channels: 2);
        Assert.That(clip.GetChannel(1), Is.EqualTo(new[] { 2f, 4f }));
        Assert.Throws<HArnessConfigException>(() => clip.GetChannel(2));
    }

    [Test]
    public void ReadRangeReadsOnlyTheHeaderAndTheRequestedFrames()
    {
        // 2 s of 16-bit stereo (128 KB of data): a 10-frame range reads the 44-byte header and 40 data bytes.
        var clip = WavRoundTripTests.GridClip(channels: 2, frames: 32000);
        using var ms = new MemoryStream();
        WavWriter.Write(ms, clip);
        using var counting = new CountingStream(ms.ToArray());
        var part = WavReader.ReadRange(counting, "big.wav", 20000, 10);
        Assert.That(part.Samples, Is.EqualTo(clip.Samples.AsSpan(40000, 20).ToArray()));
        Assert.That(counting.BytesRead, Is.EqualTo(12 + 8 + 16 + 8 + 40));
    }

    /// <summary>A seekable stream that counts the bytes handed out (MemoryStream routes span reads of derived types here).</summary>
    private sealed class CountingStream(byte[] bytes) : MemoryStream(bytes)
    {
        public long BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = base.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }
    }

    /// <summary>A stream that can only be read forwards, like a pipe or a network response.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 5));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
