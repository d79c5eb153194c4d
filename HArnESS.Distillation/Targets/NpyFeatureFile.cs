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

    /// <summary>Largest feature dimension a header may declare (a teacher layer is at most a few thousand wide).</summary>
    public const int MaxDim = 1 << 20;

    /// <summary>
    /// Reads the header: rows, dim and where the data starts; checks the size against the file. Every field is
    /// checked before it is used: the header length against the file, dimensions against <see cref="MaxDim"/> and
    /// 64 bits, the data size (which must not wrap) against the file's length.
    /// </summary>
    public static (long Rows, int Dim, long DataOffset) ReadHeader(string path)
    {
        try
        {
            using var fs = File.OpenRead(path);
            return ReadHeader(fs, path);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new HArnessFormatException($"'{path}': the .npy file cannot be read ({e.Message}).", path, e);
        }
    }

    private static (long Rows, int Dim, long DataOffset) ReadHeader(FileStream fs, string path)
    {
        Span<byte> head = stackalloc byte[12];
        if (fs.Length < 10 || fs.Read(head[..10]) != 10 || !head[..6].SequenceEqual(Magic.AsSpan(0, 6)))
            throw new HArnessFormatException($"'{path}' is not a .npy file (bad magic).", path);
        long headerLength;
        int prefix;
        switch (head[6])
        {
            case 1:
                headerLength = BitConverter.ToUInt16(head[8..10]);
                prefix = 10;
                break;
            case 2 or 3:
                if (fs.Length < 12) throw new HArnessFormatException($"'{path}': .npy file ends inside its header length.", path);
                fs.ReadExactly(head[10..12]);
                headerLength = BitConverter.ToUInt32(head[8..12]);
                prefix = 12;
                break;
            default:
                throw new HArnessFormatException($"'{path}': .npy format version {head[6]}.{head[7]} is not known (1.0, 2.0 or 3.0).", path);
        }
        if (headerLength <= 0 || headerLength > 65536)
            throw new HArnessFormatException($"'{path}': .npy header length {headerLength} is out of range (1..65536).", path);
        if (headerLength > fs.Length - prefix)
            throw new HArnessFormatException($"'{path}': .npy header length {headerLength} runs past the end of the file ({fs.Length} bytes).", path);
        var buf = new byte[headerLength];
        fs.ReadExactly(buf);
        var text = Encoding.Latin1.GetString(buf);
        if (!text.Contains("'<f4'", StringComparison.Ordinal) || text.Contains("'fortran_order': True", StringComparison.Ordinal))
            throw new HArnessFormatException($"'{path}': expected a C-order little-endian float32 array, header is {Shorten(text.Trim())}.", path);
        var m = ShapeRegex.Match(text);
        if (!m.Success) throw new HArnessFormatException($"'{path}': expected a 2-D shape in the .npy header, got {Shorten(text.Trim())}.", path);
        if (!long.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var rows)
            || !long.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var dim64))
            throw new HArnessFormatException($"'{path}': .npy shape ({m.Groups[1].Value}, {m.Groups[2].Value}) does not fit in 64 bits.", path);
        if (dim64 < 1 || dim64 > MaxDim)
            throw new HArnessFormatException($"'{path}': .npy feature dimension {dim64} is out of range (1..{MaxDim}).", path);
        var dim = (int)dim64;
        long offset = prefix + headerLength;
        // rows * dim * 4 may wrap: compare in division form against what the file holds.
        long available = fs.Length - offset;
        if (rows > available / dim / 4 || rows * dim * 4L != available)
            throw new HArnessDataException(
                $"'{path}' holds {fs.Length} bytes but its header ({rows} x {dim} float32 after a {offset}-byte header) needs " +
                $"{(rows > long.MaxValue / dim / 4 ? "more than 2^63" : (offset + rows * dim * 4L).ToString(CultureInfo.InvariantCulture))}; the shard is truncated or corrupt.", path);
        return (rows, dim, offset);
    }

    /// <summary>
    /// Reads a <c>.len</c> file (one frame count per utterance, ASCII digits) and checks that the counts add up to
    /// <paramref name="rows"/>, the rows of its <c>.npy</c> shard, without overflowing.
    /// </summary>
    public static long[] ReadLengths(string lenPath, string npyPath, long rows)
    {
        string[] lines;
        try { lines = File.ReadAllLines(lenPath); }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new HArnessDataException($"'{lenPath}' cannot be read ({e.Message}).", lenPath, e);
        }
        var lengths = new List<long>(lines.Length);
        long total = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var l = lines[i].Trim();
            if (l.Length == 0) continue;
            if (!long.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                throw new HArnessFormatException($"'{lenPath}' line {i + 1}: '{Shorten(l)}' is not a frame count.", lenPath);
            if (v > rows - total)
                throw new HArnessDataException($"'{lenPath}' line {i + 1}: the frame counts pass the {rows} rows of '{npyPath}'.", lenPath);
            total += v;
            lengths.Add(v);
        }
        if (total != rows)
            throw new HArnessDataException($"'{lenPath}' lists {total} frames but '{npyPath}' holds {rows}.", lenPath);
        return lengths.ToArray();
    }

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..117] + "...";

    /// <summary>Captures the two dimensions of an .npy header's shape tuple (ASCII digits only).</summary>
    private static readonly Regex ShapeRegex = new(@"'shape':\s*\(([0-9]{1,30}),\s*([0-9]{1,30})\)", RegexOptions.Compiled);
}
