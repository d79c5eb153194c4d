using HArnESS.Serialization;
using System.Buffers;
using System.Buffers.Binary;

namespace HArnESS.Audio;

/// <summary>
/// Writes RIFF/WAVE files: PCM 8/16/24/32-bit or IEEE float 32/64-bit, plain (the default, readable everywhere) or
/// WAVE_FORMAT_EXTENSIBLE. Integer formats round and clip samples to the range (x * 32768 for 16 bit, as sox and
/// torchaudio do), so a clip read from a PCM file writes back bit-exactly.
/// </summary>
public static class WavWriter
{
    private const int BlockSamples = 1 << 14;

    /// <summary>Writes <paramref name="clip"/> to a file (created or overwritten).</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="clip">The audio.</param>
    /// <param name="format">Sample encoding; 16-bit PCM by default.</param>
    /// <param name="extensible">Write a WAVE_FORMAT_EXTENSIBLE fmt chunk (sub-format GUID, channel mask) instead of a plain one.</param>
    /// <exception cref="HArnessDataException">The file cannot be created.</exception>
    /// <exception cref="HArnessConfigException">The clip is too long for a RIFF file (4 GiB).</exception>
    public static void Write(string path, AudioClip clip, WavSampleFormat format = WavSampleFormat.Pcm16, bool extensible = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(clip);
        try
        {
            AtomicFile.Write(path, stream => Write(stream, clip, format, extensible));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new HArnessDataException($"Cannot create WAV file '{path}': {e.Message}", path, e);
        }
    }

    /// <summary>Writes <paramref name="clip"/> as a WAV file into a stream (which need not seek and is not disposed).</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="clip">The audio.</param>
    /// <param name="format">Sample encoding; 16-bit PCM by default.</param>
    /// <param name="extensible">Write a WAVE_FORMAT_EXTENSIBLE fmt chunk instead of a plain one.</param>
    /// <exception cref="HArnessConfigException">The clip is too long for a RIFF file (4 GiB), or the format is unknown.</exception>
    public static void Write(Stream stream, AudioClip clip, WavSampleFormat format = WavSampleFormat.Pcm16, bool extensible = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(clip);
        var bytesPerSample = WavSampleCodec.BytesPerSample(format);
        var isFloat = WavSampleCodec.IsFloat(format);
        var blockAlign = clip.Channels * bytesPerSample;
        if (blockAlign > ushort.MaxValue)
            throw new HArnessConfigException($"{clip.Channels} channels of {bytesPerSample} bytes do not fit a WAV frame (block align ≤ 65535).", nameof(clip));
        var dataBytes = (long)clip.Samples.Length * bytesPerSample;
        var fmtBytes = extensible ? 40 : isFloat ? 18 : 16;
        // Non-PCM and extensible files carry a fact chunk (frame count), as the spec asks and as sox writes them.
        var factBytes = isFloat || extensible ? 12 : 0;
        var riffBytes = 4 + (8 + fmtBytes) + factBytes + 8 + dataBytes + (dataBytes & 1);
        if (riffBytes > uint.MaxValue)
            throw new HArnessConfigException(
                $"{clip.Frames} frames of {clip.Channels} channels in {format} make {dataBytes} data bytes, more than a RIFF file can hold.", nameof(clip));

        var header = new byte[12 + 8 + fmtBytes + factBytes + 8];
        var h = header.AsSpan();
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)riffBytes);
        "WAVE"u8.CopyTo(h[8..]);
        "fmt "u8.CopyTo(h[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)fmtBytes);
        var f = h.Slice(20, fmtBytes);
        var codec = isFloat ? 3 : 1;
        BinaryPrimitives.WriteUInt16LittleEndian(f, (ushort)(extensible ? 0xFFFE : codec));
        BinaryPrimitives.WriteUInt16LittleEndian(f[2..], (ushort)clip.Channels);
        BinaryPrimitives.WriteUInt32LittleEndian(f[4..], (uint)clip.SampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(f[8..], (uint)(clip.SampleRate * (long)blockAlign));
        BinaryPrimitives.WriteUInt16LittleEndian(f[12..], (ushort)blockAlign);
        BinaryPrimitives.WriteUInt16LittleEndian(f[14..], (ushort)(bytesPerSample * 8));
        if (extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(f[16..], 22);
            BinaryPrimitives.WriteUInt16LittleEndian(f[18..], (ushort)(bytesPerSample * 8));
            BinaryPrimitives.WriteUInt32LittleEndian(f[20..], DefaultChannelMask(clip.Channels));
            BinaryPrimitives.WriteUInt32LittleEndian(f[24..], (uint)codec);
            ReadOnlySpan<byte> tail = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];
            tail.CopyTo(f[28..]);
        }
        var rest = h[(20 + fmtBytes)..];
        if (factBytes > 0)
        {
            "fact"u8.CopyTo(rest);
            BinaryPrimitives.WriteUInt32LittleEndian(rest[4..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(rest[8..], (uint)Math.Min(clip.Frames, uint.MaxValue));
            rest = rest[factBytes..];
        }
        "data"u8.CopyTo(rest);
        BinaryPrimitives.WriteUInt32LittleEndian(rest[4..], (uint)dataBytes);
        stream.Write(header);

        var buffer = ArrayPool<byte>.Shared.Rent(BlockSamples * bytesPerSample);
        try
        {
            for (var i = 0; i < clip.Samples.Length; i += BlockSamples)
            {
                var n = Math.Min(BlockSamples, clip.Samples.Length - i);
                WavSampleCodec.Encode(clip.Samples.AsSpan(i, n), buffer, format);
                stream.Write(buffer, 0, n * bytesPerSample);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if ((dataBytes & 1) != 0) stream.WriteByte(0); // RIFF chunks are padded to an even size.
        stream.Flush();
    }

    // Speaker masks of the WAVEFORMATEXTENSIBLE docs for 1–8 channels; none (0) beyond.
    private static uint DefaultChannelMask(int channels) => channels switch
    {
        1 => 0x4,
        2 => 0x3,
        3 => 0x7,
        4 => 0x33,
        5 => 0x37,
        6 => 0x3F,
        7 => 0x13F,
        8 => 0x63F,
        _ => 0,
    };
}
