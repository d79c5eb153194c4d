using System.Buffers.Binary;
using System.Text;

namespace HArnESS.Inference;

/// <summary>A minimal RIFF/WAVE reader for inference: PCM 8/16/24/32-bit and IEEE float 32/64-bit, plain or
/// WAVE_FORMAT_EXTENSIBLE, any channel count (averaged to mono). Integer samples are scaled as torchaudio does
/// (int16 / 32768, …). Every chunk size is checked against the file's real length before anything is allocated.</summary>
public sealed class WavAudio
{
    private WavAudio(float[] samples, int sampleRate, int channels)
    {
        Samples = samples;
        SampleRate = sampleRate;
        SourceChannels = channels;
    }

    /// <summary>Mono samples (channels averaged), integer formats scaled to [-1, 1).</summary>
    public float[] Samples { get; }

    /// <summary>Sample rate in Hz.</summary>
    public int SampleRate { get; }

    /// <summary>Channels in the file before averaging.</summary>
    public int SourceChannels { get; }

    /// <summary>Reads a WAV file.</summary>
    /// <exception cref="HArnessInferenceFormatException">The file is not a supported WAV file or its header disagrees with its length.</exception>
    /// <exception cref="HArnessInferenceException">The file cannot be opened.</exception>
    public static WavAudio Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HArnessInferenceException($"Cannot read WAV file '{path}': {e.Message}", path, e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses WAV bytes; <paramref name="name"/> is used in error messages.</summary>
    /// <exception cref="HArnessInferenceFormatException">The bytes are not a supported WAV file.</exception>
    public static WavAudio Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 12 || Encoding.ASCII.GetString(bytes[..4]) != "RIFF" || Encoding.ASCII.GetString(bytes[8..12]) != "WAVE")
            throw new HArnessInferenceFormatException($"'{name}' is not a RIFF/WAVE file (bytes 0-3 must be 'RIFF' and 8-11 'WAVE').", name);
        int tag = 0, channels = 0, rate = 0, blockAlign = 0, bits = 0;
        var pos = 12;
        while (bytes.Length - pos >= 8)
        {
            var id = Encoding.ASCII.GetString(bytes.Slice(pos, 4));
            long size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(pos + 4)..]);
            var body = pos + 8;
            if (id == "data")
            {
                if (channels == 0)
                    throw new HArnessInferenceFormatException($"'{name}': the data chunk at offset {pos} comes before any fmt chunk.", name);
                if (size > bytes.Length - body)
                    throw new HArnessInferenceFormatException($"'{name}' is truncated: the data chunk declares {size} bytes, {bytes.Length - body} are present.", name);
                return Decode(bytes.Slice(body, (int)size), name, tag, channels, rate, blockAlign, bits);
            }
            if (size > bytes.Length - body)
                throw new HArnessInferenceFormatException($"'{name}': chunk '{id}' at offset {pos} declares {size} bytes, only {bytes.Length - body} follow.", name);
            if (id == "fmt ")
            {
                if (size < 16) throw new HArnessInferenceFormatException($"'{name}': the fmt chunk has {size} bytes, at least 16 are needed.", name);
                var f = bytes.Slice(body, (int)size);
                tag = BinaryPrimitives.ReadUInt16LittleEndian(f);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(f[2..]);
                var r = BinaryPrimitives.ReadUInt32LittleEndian(f[4..]);
                rate = r is > 0 and <= int.MaxValue ? (int)r : throw new HArnessInferenceFormatException($"'{name}': fmt sample rate {r} is not a positive int.", name);
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(f[12..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(f[14..]);
                if (tag == 0xFFFE)
                {
                    if (size < 40) throw new HArnessInferenceFormatException($"'{name}': a WAVE_FORMAT_EXTENSIBLE fmt chunk needs 40 bytes, has {size}.", name);
                    tag = BinaryPrimitives.ReadUInt16LittleEndian(f[24..]);             // sub-format GUID's first two bytes
                }
                if (channels == 0) throw new HArnessInferenceFormatException($"'{name}': fmt declares 0 channels.", name);
            }
            pos = (int)Math.Min(bytes.Length, body + size + (size & 1));
        }
        throw new HArnessInferenceFormatException($"'{name}' has no {(channels == 0 ? "fmt" : "data")} chunk.", name);
    }

    private static WavAudio Decode(ReadOnlySpan<byte> data, string name, int tag, int channels, int rate, int blockAlign, int bits)
    {
        var bytesPer = bits / 8;
        var ok = (tag == 1 && bits is 8 or 16 or 24 or 32) || (tag == 3 && bits is 32 or 64);
        if (!ok)
            throw new HArnessInferenceFormatException($"'{name}': format tag {tag} with {bits} bits is not supported (PCM 8/16/24/32 or float 32/64).", name);
        if (blockAlign != bytesPer * channels)
            throw new HArnessInferenceFormatException($"'{name}': block align is {blockAlign}, expected {bytesPer * channels} ({channels} × {bits} bits).", name);
        var frames = data.Length / blockAlign;
        var mono = new float[frames];
        for (var i = 0; i < frames; i++)
        {
            double sum = 0;
            for (var c = 0; c < channels; c++)
            {
                var s = data.Slice((i * channels + c) * bytesPer, bytesPer);
                sum += (tag, bits) switch
                {
                    (1, 8) => (s[0] - 128) / 128.0,
                    (1, 16) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768.0,
                    (1, 24) => ((s[2] << 24 | s[1] << 16 | s[0] << 8) >> 8) / 8388608.0,
                    (1, 32) => BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0,
                    (3, 32) => BinaryPrimitives.ReadSingleLittleEndian(s),
                    _ => BinaryPrimitives.ReadDoubleLittleEndian(s),
                };
            }
            mono[i] = (float)(sum / channels);
        }
        return new WavAudio(mono, rate, channels);
    }
}
