using System.Buffers.Binary;

namespace HArnESS.Audio;

/// <summary>Converts between stored WAV samples and floats, with torchaudio/sox scaling (int16 / 32768 etc.).</summary>
internal static class WavSampleCodec
{
    public static int BytesPerSample(WavSampleFormat format) => format switch
    {
        WavSampleFormat.Pcm8 => 1,
        WavSampleFormat.Pcm16 => 2,
        WavSampleFormat.Pcm24 => 3,
        WavSampleFormat.Pcm32 or WavSampleFormat.Float32 => 4,
        WavSampleFormat.Float64 => 8,
        _ => throw new HArnessConfigException($"Unknown WAV sample format {format}.", "format"),
    };

    public static bool IsFloat(WavSampleFormat format) => format is WavSampleFormat.Float32 or WavSampleFormat.Float64;

    /// <summary>Decodes <c>dst.Length</c> samples from <paramref name="src"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst, WavSampleFormat format)
    {
        switch (format)
        {
            case WavSampleFormat.Pcm8:
                for (var i = 0; i < dst.Length; i++) dst[i] = (src[i] - 128) / 128f;
                break;
            case WavSampleFormat.Pcm16:
                for (var i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]) / 32768f;
                break;
            case WavSampleFormat.Pcm24:
                for (int i = 0, j = 0; i < dst.Length; i++, j += 3)
                    dst[i] = ((src[j] | (src[j + 1] << 8) | (src[j + 2] << 16)) << 8 >> 8) / 8388608f;
                break;
            case WavSampleFormat.Pcm32:
                for (var i = 0; i < dst.Length; i++) dst[i] = (float)(BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]) / 2147483648.0);
                break;
            case WavSampleFormat.Float32:
                for (var i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            case WavSampleFormat.Float64:
                for (var i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                break;
            default:
                throw new HArnessConfigException($"Unknown WAV sample format {format}.", nameof(format));
        }
    }

    /// <summary>Encodes <c>src.Length</c> samples into <paramref name="dst"/>; integer formats round and clip to the range.</summary>
    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst, WavSampleFormat format)
    {
        switch (format)
        {
            case WavSampleFormat.Pcm8:
                for (var i = 0; i < src.Length; i++) dst[i] = (byte)(Quantize(src[i], 128) + 128);
                break;
            case WavSampleFormat.Pcm16:
                for (var i = 0; i < src.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(dst[(2 * i)..], (short)Quantize(src[i], 32768));
                break;
            case WavSampleFormat.Pcm24:
                for (int i = 0, j = 0; i < src.Length; i++, j += 3)
                {
                    var v = (int)Quantize(src[i], 8388608);
                    dst[j] = (byte)v;
                    dst[j + 1] = (byte)(v >> 8);
                    dst[j + 2] = (byte)(v >> 16);
                }
                break;
            case WavSampleFormat.Pcm32:
                for (var i = 0; i < src.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(dst[(4 * i)..], (int)Quantize(src[i], 2147483648.0));
                break;
            case WavSampleFormat.Float32:
                for (var i = 0; i < src.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]);
                break;
            case WavSampleFormat.Float64:
                for (var i = 0; i < src.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(dst[(8 * i)..], src[i]);
                break;
            default:
                throw new HArnessConfigException($"Unknown WAV sample format {format}.", nameof(format));
        }
    }

    // x * 2^(bits-1), rounded, clipped to [-2^(bits-1), 2^(bits-1) - 1]; NaN becomes 0.
    private static long Quantize(float x, double fullScale)
    {
        if (float.IsNaN(x)) return 0;
        var v = Math.Round(x * fullScale, MidpointRounding.ToEven);
        return (long)Math.Clamp(v, -fullScale, fullScale - 1);
    }
}
