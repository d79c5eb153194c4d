using System.Buffers.Binary;
using System.Text;

namespace HArnESS.Tests.Audio;

/// <summary>Builds WAV files byte by byte, including broken ones.</summary>
internal static class WavBytes
{
    public static byte[] Chunk(string id, byte[] body, uint? declaredSize = null, bool pad = true)
    {
        var size = declaredSize ?? (uint)body.Length;
        var padding = pad && body.Length % 2 == 1 ? 1 : 0;
        var result = new byte[8 + body.Length + padding];
        Encoding.ASCII.GetBytes(id).CopyTo(result, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), size);
        body.CopyTo(result, 8);
        return result;
    }

    public static byte[] Fmt(int tag = 1, int channels = 1, int rate = 16000, int bits = 16, int? blockAlign = null, int extraBytes = 0)
    {
        var align = blockAlign ?? channels * bits / 8;
        var f = new byte[16 + extraBytes];
        BinaryPrimitives.WriteUInt16LittleEndian(f, (ushort)tag);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(2), (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(8), (uint)(rate * align));
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(12), (ushort)align);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(14), (ushort)bits);
        return f;
    }

    /// <summary>A WAVE_FORMAT_EXTENSIBLE fmt body with the given sub-format GUID (first four bytes = codec).</summary>
    public static byte[] FmtExtensible(int codec, int channels, int bits, int validBits, byte[]? guidTail = null)
    {
        var f = Fmt(0xFFFE, channels, 16000, bits, extraBytes: 24);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(16), 22);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(18), (ushort)validBits);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(20), 0x4);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(24), (uint)codec);
        (guidTail ?? [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]).CopyTo(f, 28);
        return f;
    }

    public static byte[] Pcm16(params short[] samples)
    {
        var b = new byte[samples.Length * 2];
        for (var i = 0; i < samples.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(2 * i), samples[i]);
        return b;
    }

    public static byte[] Riff(params byte[][] chunks) => RiffWithForm("RIFF", "WAVE", chunks);

    public static byte[] RiffWithForm(string riff, string form, params byte[][] chunks)
    {
        var body = chunks.SelectMany(c => c).ToArray();
        var result = new byte[12 + body.Length];
        Encoding.ASCII.GetBytes(riff).CopyTo(result, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)(4 + body.Length));
        Encoding.ASCII.GetBytes(form).CopyTo(result, 8);
        body.CopyTo(result, 12);
        return result;
    }
}
