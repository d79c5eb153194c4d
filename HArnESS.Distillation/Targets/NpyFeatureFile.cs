using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Little-endian float32 2-D <c>.npy</c> files (NumPy format 1.0), as fairseq's feature dumps, written as a stream of
/// rows: the header has a fixed size and its shape is patched when the file is finished.
/// </summary>
internal static partial class NpyFeatureFile
{
    public const int HeaderBytes = 128;
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];

    public static void WriteHeader(Stream stream, long rows, int dim)
    {
        var dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
        var bodyLength = HeaderBytes - Magic.Length - 2;
        var text = dict.PadRight(bodyLength - 1) + "\n";
        if (text.Length != bodyLength) throw new InvalidOperationException("npy header overflow");
        stream.Write(Magic);
        Span<byte> len = stackalloc byte[2];
        BitConverter.TryWriteBytes(len, (ushort)bodyLength);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(text));
    }

    public static void WriteRows(Stream stream, ReadOnlySpan<float> values) => stream.Write(MemoryMarshal.AsBytes(values));

    /// <summary>Reads the header: rows, dim and where the data starts; checks the size against the file.</summary>
    public static (long Rows, int Dim, long DataOffset) ReadHeader(string path)
    {
        using var fs = File.OpenRead(path);
        Span<byte> head = stackalloc byte[10];
        if (fs.Read(head) != 10 || !head[..6].SequenceEqual(Magic.AsSpan(0, 6)))
            throw new HArnessFormatException($"'{path}' is not a .npy file (bad magic).", path);
        int headerLength;
        int prefix;
        if (head[6] == 1) { headerLength = BitConverter.ToUInt16(head[8..10]); prefix = 10; }
        else
        {
            Span<byte> more = stackalloc byte[2];
            fs.ReadExactly(more);
            headerLength = (int)BitConverter.ToUInt32([head[8], head[9], more[0], more[1]]);
            prefix = 12;
        }
        if (headerLength <= 0 || headerLength > 65536) throw new HArnessFormatException($"'{path}': .npy header length {headerLength} is out of range.", path);
        var buf = new byte[headerLength];
        fs.ReadExactly(buf);
        var text = Encoding.ASCII.GetString(buf);
        if (!text.Contains("'<f4'", StringComparison.Ordinal) || text.Contains("'fortran_order': True", StringComparison.Ordinal))
            throw new HArnessFormatException($"'{path}': expected a C-order little-endian float32 array, header is {text.Trim()}.", path);
        var m = ShapeRegex.Match(text);
        if (!m.Success) throw new HArnessFormatException($"'{path}': expected a 2-D shape in the .npy header, got {text.Trim()}.", path);
        var rows = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var dim = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        var offset = prefix + headerLength;
        var expected = offset + rows * dim * 4L;
        if (fs.Length != expected)
            throw new HArnessDataException($"'{path}' holds {fs.Length} bytes but its header ({rows} x {dim} float32) needs {expected}; the shard is truncated or corrupt.", path);
        return (rows, dim, offset);
    }

    /// <summary>Captures the two dimensions of an .npy header's shape tuple.</summary>
    private static readonly Regex ShapeRegex = new(@"'shape':\s*\((\d+),\s*(\d+)\)", RegexOptions.Compiled);
}
