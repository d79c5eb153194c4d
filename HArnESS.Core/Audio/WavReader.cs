using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace HArnESS.Audio;

/// <summary>
/// Reads RIFF/WAVE files: PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64 bit, plain or
/// WAVE_FORMAT_EXTENSIBLE, any number of channels. Unknown chunks (LIST, fact, cue, …) are skipped, odd-sized chunks
/// are followed by their padding byte. Integer samples are scaled as torchaudio/sox do (int16 / 32768, …).
/// </summary>
/// <remarks>
/// Every size in the header is checked against the real length of the file or stream before anything is allocated,
/// so a corrupt or hostile header cannot cause an unbounded allocation; bad input raises
/// <see cref="HArnessFormatException"/> naming the file and the field at fault.
/// </remarks>
public static class WavReader
{
    private const int FormatPcm = 0x0001;
    private const int FormatFloat = 0x0003;
    private const int FormatExtensible = 0xFFFE;
    private const int BlockBytes = 1 << 16;

    // Tail of the KSDATAFORMAT_SUBTYPE_* GUIDs: xxxxxxxx-0000-0010-8000-00aa00389b71 (bytes 4..15 as stored).
    private static readonly byte[] SubFormatGuidTail = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    /// <summary>Reads and checks the header of a WAV file without reading its samples.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Reading options (only <see cref="WavReadOptions.AllowTruncated"/> matters here).</param>
    /// <exception cref="HArnessFormatException">The file is not a WAV file this reader supports, or its header is inconsistent with the file.</exception>
    /// <exception cref="HArnessDataException">The file cannot be opened.</exception>
    public static WavInfo ReadInfo(string path, WavReadOptions? options = null)
    {
        using var stream = Open(path);
        return ParseHeader(stream, path, options ?? WavReadOptions.Default);
    }

    /// <summary>Reads and checks the header of a WAV stream, from its current position, without reading its samples.</summary>
    /// <param name="stream">A seekable stream positioned at the start of the RIFF header.</param>
    /// <param name="name">Name used in error messages (usually the file path).</param>
    /// <param name="options">Reading options.</param>
    /// <exception cref="HArnessFormatException">The header is not supported or inconsistent with the stream.</exception>
    /// <exception cref="HArnessConfigException">The stream cannot seek.</exception>
    public static WavInfo ReadInfo(Stream stream, string name, WavReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RequireSeekable(stream, name);
        return ParseHeader(stream, name, options ?? WavReadOptions.Default);
    }

    /// <summary>Reads a whole WAV file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Reading options (downmix to mono, accept truncated files).</param>
    /// <returns>The samples, interleaved, scaled to [-1, 1] for integer formats.</returns>
    /// <exception cref="HArnessFormatException">The file is not a supported WAV file or is inconsistent.</exception>
    /// <exception cref="HArnessDataException">The file cannot be opened.</exception>
    public static AudioClip Read(string path, WavReadOptions? options = null)
    {
        using var stream = Open(path);
        return ReadAll(stream, path, options ?? WavReadOptions.Default);
    }

    /// <summary>Reads a whole WAV stream from its current position. A stream that cannot seek is first copied into
    /// memory (bounded by its real length, never by a header value).</summary>
    /// <param name="stream">The stream, positioned at the start of the RIFF header; it is not disposed.</param>
    /// <param name="name">Name used in error messages (usually the file path or URL).</param>
    /// <param name="options">Reading options.</param>
    /// <exception cref="HArnessFormatException">The stream is not a supported WAV file or is inconsistent.</exception>
    public static AudioClip Read(Stream stream, string name, WavReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek) return ReadAll(stream, name, options ?? WavReadOptions.Default);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return ReadAll(copy, name, options ?? WavReadOptions.Default);
    }

    /// <summary>
    /// Reads <paramref name="frameCount"/> frames starting at <paramref name="startFrame"/>, seeking straight to them
    /// (only the header and the requested bytes are read).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="startFrame">First frame to read (0-based).</param>
    /// <param name="frameCount">Number of frames; <c>startFrame + frameCount</c> must not pass the end of the data.</param>
    /// <param name="options">Reading options.</param>
    /// <exception cref="HArnessConfigException">The range is negative or beyond the end of the audio.</exception>
    /// <exception cref="HArnessFormatException">The file is not a supported WAV file or is inconsistent.</exception>
    /// <exception cref="HArnessDataException">The file cannot be opened.</exception>
    public static AudioClip ReadRange(string path, long startFrame, long frameCount, WavReadOptions? options = null)
    {
        using var stream = Open(path);
        return ReadRange(stream, path, startFrame, frameCount, options);
    }

    /// <summary>Reads a range of frames from a seekable WAV stream (see <see cref="ReadRange(string, long, long, WavReadOptions?)"/>).</summary>
    /// <param name="stream">A seekable stream positioned at the start of the RIFF header; it is not disposed.</param>
    /// <param name="name">Name used in error messages.</param>
    /// <param name="startFrame">First frame to read (0-based).</param>
    /// <param name="frameCount">Number of frames.</param>
    /// <param name="options">Reading options.</param>
    /// <exception cref="HArnessConfigException">The stream cannot seek, or the range is outside the audio.</exception>
    /// <exception cref="HArnessFormatException">The stream is not a supported WAV file or is inconsistent.</exception>
    public static AudioClip ReadRange(Stream stream, string name, long startFrame, long frameCount, WavReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RequireSeekable(stream, name);
        options ??= WavReadOptions.Default;
        var origin = stream.Position;
        var info = ParseHeader(stream, name, options);
        if (startFrame < 0 || startFrame > info.Frames)
            throw new HArnessConfigException(
                $"startFrame {startFrame} is outside [0, {info.Frames}] for '{name}' ({info.Frames} frames).", nameof(startFrame));
        if (frameCount < 0 || frameCount > info.Frames - startFrame)
            throw new HArnessConfigException(
                $"frameCount {frameCount} from frame {startFrame} runs past the end of '{name}' ({info.Frames} frames).", nameof(frameCount));
        return ReadFrames(stream, name, info, origin, startFrame, frameCount, options);
    }

    private static AudioClip ReadAll(Stream stream, string name, WavReadOptions options)
    {
        var origin = stream.Position;
        var info = ParseHeader(stream, name, options);
        return ReadFrames(stream, name, info, origin, 0, info.Frames, options);
    }

    private static AudioClip ReadFrames(Stream stream, string name, WavInfo info, long origin, long startFrame, long frameCount, WavReadOptions options)
    {
        var sampleCount = frameCount * info.Channels;
        if (sampleCount > Array.MaxLength)
            throw new HArnessFormatException(
                $"'{name}': {frameCount} frames × {info.Channels} channels is more than one array can hold; read it in parts with ReadRange.", name);

        var samples = new float[sampleCount];
        var framesPerBlock = Math.Max(1, BlockBytes / info.BlockAlign);
        var buffer = ArrayPool<byte>.Shared.Rent(framesPerBlock * info.BlockAlign);
        try
        {
            stream.Position = origin + info.DataOffset + (startFrame * info.BlockAlign);
            long done = 0;
            while (done < frameCount)
            {
                var frames = (int)Math.Min(framesPerBlock, frameCount - done);
                var bytes = frames * info.BlockAlign;
                var got = ReadAtMost(stream, buffer.AsSpan(0, bytes));
                if (got < bytes)
                    throw new HArnessFormatException(
                        $"'{name}': the data ended after {(done * info.BlockAlign) + got} of {frameCount * info.BlockAlign} expected bytes " +
                        "(the file changed while it was read, or the stream reports a wrong length).", name);
                WavSampleCodec.Decode(buffer.AsSpan(0, bytes), samples.AsSpan((int)(done * info.Channels), frames * info.Channels), info.Format);
                done += frames;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var clip = new AudioClip(samples, info.SampleRate, info.Channels);
        return options.Mono ? clip.ToMono() : clip;
    }

    /// <summary>Walks the chunks from the stream's position; returns at the data chunk, positioned anywhere.</summary>
    internal static WavInfo ParseHeader(Stream stream, string name, WavReadOptions options)
    {
        var origin = stream.Position;
        var end = stream.Length;
        Span<byte> head = stackalloc byte[12];
        var got = ReadAtMost(stream, head);
        if (got < 12)
            throw new HArnessFormatException($"'{name}' is not a WAV file: it has only {got} bytes, fewer than a 12-byte RIFF header.", name);
        var riff = FourCC(head[..4]);
        if (riff is "RF64" or "BW64")
            throw new HArnessFormatException($"'{name}' is an {riff} file (64-bit WAV); only RIFF/WAVE is supported.", name);
        if (riff == "RIFX")
            throw new HArnessFormatException($"'{name}' is a big-endian RIFX file; only little-endian RIFF/WAVE is supported.", name);
        if (riff != "RIFF")
            throw new HArnessFormatException($"'{name}' is not a WAV file: it starts with '{riff}', expected 'RIFF'.", name);
        var form = FourCC(head[8..12]);
        if (form != "WAVE")
            throw new HArnessFormatException($"'{name}' is a RIFF file of type '{form}', expected 'WAVE'.", name);

        Format? fmt = null;
        var pos = origin + 12;
        Span<byte> chunkHead = stackalloc byte[8];
        while (end - pos >= 8)
        {
            stream.Position = pos;
            ReadAtMost(stream, chunkHead);
            var id = FourCC(chunkHead[..4]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHead[4..]);
            var body = pos + 8;
            var remaining = end - body;
            if (id == "data")
            {
                if (fmt is null)
                    throw new HArnessFormatException($"'{name}': the data chunk at offset {pos - origin} comes before any fmt chunk.", name);
                return DataInfo(name, fmt, body - origin, size, remaining, options);
            }
            if (size > remaining)
                throw new HArnessFormatException(
                    $"'{name}': chunk '{id}' at offset {pos - origin} declares {size} bytes but only {remaining} bytes follow in the file.", name);
            if (id == "fmt ")
                fmt = ParseFormat(stream, name, size);
            pos = body + size + (size & 1);
        }
        if (fmt is null)
            throw new HArnessFormatException($"'{name}' has no fmt chunk (walked {end - origin} bytes of chunks).", name);
        throw new HArnessFormatException($"'{name}' has no data chunk (walked {end - origin} bytes of chunks).", name);
    }

    private static WavInfo DataInfo(string name, Format fmt, long dataOffset, long declared, long remaining, WavReadOptions options)
    {
        var available = declared;
        var truncated = false;
        if (declared > remaining)
        {
            if (!options.AllowTruncated)
                throw new HArnessFormatException(
                    $"'{name}' is truncated: its data chunk declares {declared} bytes but only {remaining} bytes are in the file " +
                    $"({remaining / fmt.BlockAlign} of {declared / fmt.BlockAlign} frames). " +
                    "Set WavReadOptions.AllowTruncated to read the frames that are there.", name);
            available = remaining;
            truncated = true;
        }
        return new WavInfo
        {
            SampleRate = fmt.SampleRate,
            Channels = fmt.Channels,
            BitsPerSample = fmt.BitsPerSample,
            ValidBitsPerSample = fmt.ValidBits,
            Format = fmt.SampleFormat,
            BlockAlign = fmt.BlockAlign,
            FormatTag = fmt.Tag,
            IsExtensible = fmt.Tag == FormatExtensible,
            ChannelMask = fmt.ChannelMask,
            DataOffset = dataOffset,
            DeclaredDataBytes = declared,
            Frames = available / fmt.BlockAlign,
            IsTruncated = truncated,
        };
    }

    private sealed record Format(int Tag, int Channels, int SampleRate, int BlockAlign, int BitsPerSample, int ValidBits,
        uint ChannelMask, WavSampleFormat SampleFormat);

    private static Format ParseFormat(Stream stream, string name, long size)
    {
        if (size < 16)
            throw new HArnessFormatException($"'{name}': the fmt chunk has {size} bytes, at least 16 are needed.", name);
        // Only the first 40 bytes carry anything we use; a bigger chunk is skipped by the caller.
        Span<byte> f = stackalloc byte[40];
        f = f[..ReadAtMost(stream, f[..(int)Math.Min(size, 40)])];
        int tag = BinaryPrimitives.ReadUInt16LittleEndian(f);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(f[2..]);
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(f[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(f[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(f[14..]);
        var codec = tag;
        var validBits = bits;
        uint mask = 0;
        if (tag == FormatExtensible)
        {
            if (f.Length < 40 || BinaryPrimitives.ReadUInt16LittleEndian(f[16..]) < 22)
                throw new HArnessFormatException(
                    $"'{name}': the fmt chunk says WAVE_FORMAT_EXTENSIBLE but has {size} bytes, fewer than the 40 that format needs.", name);
            validBits = BinaryPrimitives.ReadUInt16LittleEndian(f[18..]);
            mask = BinaryPrimitives.ReadUInt32LittleEndian(f[20..]);
            var sub = f[24..40];
            if (!sub[4..].SequenceEqual(SubFormatGuidTail))
                throw new HArnessFormatException(
                    $"'{name}': unsupported WAVE_FORMAT_EXTENSIBLE sub-format {new Guid(sub)}; only PCM and IEEE float are supported.", name);
            codec = (int)BinaryPrimitives.ReadUInt32LittleEndian(sub);
            if (validBits == 0) validBits = bits;
        }

        if (codec != FormatPcm && codec != FormatFloat)
            throw new HArnessFormatException(
                $"'{name}' uses the unsupported codec 0x{codec:X4} ({CodecName(codec)}); only PCM (1) and IEEE float (3) WAV files can be read.", name);
        if (channels == 0)
            throw new HArnessFormatException($"'{name}': the fmt chunk declares 0 channels.", name);
        if (rate == 0 || rate > int.MaxValue)
            throw new HArnessFormatException($"'{name}': the fmt chunk declares a sample rate of {rate} Hz.", name);
        if (bits == 0)
            throw new HArnessFormatException($"'{name}': the fmt chunk declares 0 bits per sample.", name);
        if (validBits > bits)
            throw new HArnessFormatException($"'{name}': {validBits} valid bits per sample do not fit in a {bits}-bit container.", name);

        // Plain PCM may declare e.g. 12 or 20 bits; samples then sit in the next whole number of bytes.
        var container = (bits + 7) / 8 * 8;
        WavSampleFormat format;
        if (codec == FormatFloat)
        {
            format = bits switch
            {
                32 => WavSampleFormat.Float32,
                64 => WavSampleFormat.Float64,
                _ => throw new HArnessFormatException($"'{name}': IEEE float with {bits} bits per sample is not supported (32 or 64).", name),
            };
        }
        else
        {
            format = container switch
            {
                8 => WavSampleFormat.Pcm8,
                16 => WavSampleFormat.Pcm16,
                24 => WavSampleFormat.Pcm24,
                32 => WavSampleFormat.Pcm32,
                _ => throw new HArnessFormatException($"'{name}': PCM with {bits} bits per sample is not supported (8, 16, 24 or 32).", name),
            };
        }
        var expectedAlign = channels * (container / 8);
        if (blockAlign != expectedAlign)
            throw new HArnessFormatException(
                $"'{name}': block align is {blockAlign} bytes, but {channels} channels × {container / 8} bytes per sample make {expectedAlign}.", name);
        return new Format(tag, channels, (int)rate, blockAlign, container, validBits, mask, format);
    }

    private static string CodecName(int tag) => tag switch
    {
        0x0000 => "unknown",
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0050 => "MPEG",
        0x0055 => "MPEG Layer 3 (MP3)",
        0x0161 or 0x0162 or 0x0163 => "Windows Media Audio",
        0x00FF or 0x1610 => "AAC",
        0xF1AC => "FLAC",
        _ => "compressed or unknown format",
    };

    private static string FourCC(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(4);
        foreach (var b in bytes) sb.Append(b is >= 0x20 and < 0x7F ? (char)b : $"\\x{b:X2}");
        return sb.ToString();
    }

    private static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static FileStream Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new HArnessDataException($"Cannot open WAV file '{path}': {e.Message}", path, e);
        }
    }

    private static void RequireSeekable(Stream stream, string name)
    {
        if (!stream.CanSeek)
            throw new HArnessConfigException(
                $"The stream for '{name}' cannot seek; use Read(stream, name), which buffers it, or pass a seekable stream.", nameof(stream));
    }
}
