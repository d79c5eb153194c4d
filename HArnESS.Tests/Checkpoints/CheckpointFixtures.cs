using System.Text.Json;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Checkpoints;

/// <summary>Paths and expected values of the files made by scripts/fixtures/make_checkpoint_format_fixtures.py.</summary>
internal static class CheckpointFixtures
{
    public static string Dir => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Checkpoints");

    public static string PathOf(string name) => Path.Combine(Dir, name);

    public sealed record Expected(string DType, long[] Shape, double[] Values);

    public static Dictionary<string, Expected> ReadExpected(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf(name)));
        var result = new Dictionary<string, Expected>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            result[p.Name] = new Expected(
                p.Value.GetProperty("dtype").GetString()!,
                p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                p.Value.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).ToArray());
        }
        return result;
    }

    public static ScalarType TorchType(string pythonName) => pythonName switch
    {
        "float32" => ScalarType.Float32,
        "float16" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        "float64" => ScalarType.Float64,
        "int64" => ScalarType.Int64,
        "int32" => ScalarType.Int32,
        "int16" => ScalarType.Int16,
        "int8" => ScalarType.Int8,
        "uint8" => ScalarType.Byte,
        "bool" => ScalarType.Bool,
        _ => throw new ArgumentException(pythonName),
    };

    /// <summary>Asserts dtype, shape and exact values (Python wrote them as float64, which holds every value exactly).</summary>
    public static void AssertMatches(string name, Tensor actual, Expected expected)
    {
        Assert.That(actual.dtype, Is.EqualTo(TorchType(expected.DType)), name);
        Assert.That(actual.shape, Is.EqualTo(expected.Shape), name);
        using var flat = actual.to_type(ScalarType.Float64).flatten();
        var values = flat.data<double>().ToArray();
        Assert.That(values, Is.EqualTo(expected.Values), name);
    }
}

/// <summary>
/// Writes pickle opcodes by hand, so tests can build the malformed streams a fuzzer or an attacker would (nothing here
/// runs Python). Only the opcodes the tests need; see Python's <c>pickletools</c> for their meaning.
/// </summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream _ms = new();

    public PickleWriter Op(char op) { _ms.WriteByte((byte)op); return this; }

    public PickleWriter Byte(int b) { _ms.WriteByte((byte)b); return this; }

    public PickleWriter Raw(ReadOnlySpan<byte> bytes) { _ms.Write(bytes); return this; }

    public PickleWriter Proto(int v = 2) => Byte(0x80).Byte(v);

    public PickleWriter Line(char op, string text) => Op(op).Raw(System.Text.Encoding.Latin1.GetBytes(text + "\n"));

    public PickleWriter Str(string s)
    {
        var b = System.Text.Encoding.UTF8.GetBytes(s);
        Op('X').Raw(BitConverter.GetBytes(b.Length));
        return Raw(b);
    }

    /// <summary>BININT for values that fit 32 bits, LONG1 otherwise (as Python writes them).</summary>
    public PickleWriter Int(long v) => v is >= int.MinValue and <= int.MaxValue ? Op('J').Raw(BitConverter.GetBytes((int)v)) : Long1(v);

    /// <summary>LONG1: a length byte and that many little-endian two's-complement bytes.</summary>
    public PickleWriter Long1(System.Numerics.BigInteger v)
    {
        var b = v.ToByteArray();
        return Byte(0x8a).Byte(b.Length).Raw(b);
    }

    public PickleWriter Global(string module, string name) => Op('c').Raw(System.Text.Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    public PickleWriter Ints(IEnumerable<long> values)
    {
        Op('(');
        foreach (var v in values) Int(v);
        return Op('t');
    }

    /// <summary>
    /// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride)</c> on a persistent-id storage:
    /// <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c>, plus the legacy view tuple when <paramref name="view"/> is given.
    /// </summary>
    public PickleWriter Tensor(string key, long numel, long offset, long[] size, long[] stride,
        (long Offset, long Size)? view = null, bool legacy = false, string storage = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        Op('(').Str("storage").Global("torch", storage).Str(key).Str("cpu").Int(numel);
        if (legacy)
        {
            if (view is { } v) Op('(').Str(key + "_view").Int(v.Offset).Int(v.Size).Op('t');
            else Op('N');
        }
        Op('t').Byte('Q');
        Int(offset).Ints(size).Ints(stride);
        return Op('t').Op('R');
    }

    public PickleWriter Stop() => Op('.');

    public byte[] ToArray() => _ms.ToArray();

    /// <summary>A pickle of one dict <c>{name: tensor}</c> (protocol 2).</summary>
    public static byte[] OneTensorDict(string name, long numel, long offset, long[] size, long[] stride,
        (long Offset, long Size)? view = null, bool legacy = false) =>
        new PickleWriter().Proto().Op('}').Op('(').Str(name).Tensor("0", numel, offset, size, stride, view, legacy).Op('u').Stop().ToArray();

    /// <summary>A zip-format checkpoint: <c>archive/data.pkl</c>, <c>archive/byteorder</c> and <c>archive/data/&lt;key&gt;</c>.</summary>
    public static void WriteZip(string path, byte[] pickle, IReadOnlyDictionary<string, byte[]> storages,
        byte[]? byteOrder = null, System.IO.Compression.CompressionLevel byteOrderCompression = System.IO.Compression.CompressionLevel.NoCompression)
    {
        using var fs = File.Create(path);
        using var zip = new System.IO.Compression.ZipArchive(fs, System.IO.Compression.ZipArchiveMode.Create);
        void Add(string name, byte[] data, System.IO.Compression.CompressionLevel level)
        {
            using var s = zip.CreateEntry(name, level).Open();
            s.Write(data);
        }
        Add("archive/data.pkl", pickle, System.IO.Compression.CompressionLevel.NoCompression);
        Add("archive/byteorder", byteOrder ?? "little"u8.ToArray(), byteOrderCompression);
        foreach (var (k, v) in storages) Add("archive/data/" + k, v, System.IO.Compression.CompressionLevel.NoCompression);
    }

    /// <summary>
    /// A legacy (<c>_use_new_zipfile_serialization=False</c>) checkpoint: magic, protocol, system info, the main pickle,
    /// the storage key list, then each storage as an 8-byte element count and its bytes.
    /// </summary>
    public static byte[] Legacy(byte[] mainPickle, params (string Key, long Numel, byte[] Data)[] storages)
    {
        using var ms = new MemoryStream();
        WriteLegacy(ms, mainPickle, storages.Select(s => (s.Key, s.Numel, (byte[]?)s.Data, 0L)).ToArray());
        return ms.ToArray();
    }

    /// <summary>As <see cref="Legacy"/>, to a seekable stream; a storage without data is a hole of <c>HoleBytes</c> (sparse on disk).</summary>
    public static void WriteLegacy(Stream ms, byte[] mainPickle, (string Key, long Numel, byte[]? Data, long HoleBytes)[] storages)
    {
        ms.Write(new PickleWriter().Proto().Long1(System.Numerics.BigInteger.Parse("119547037146038801333356")).Stop().ToArray());
        ms.Write(new PickleWriter().Proto().Int(1001).Stop().ToArray());
        ms.Write(new PickleWriter().Proto().Op('}').Str("little_endian").Byte(0x88).Op('s').Stop().ToArray());
        ms.Write(mainPickle);
        var keys = new PickleWriter().Proto().Op(']').Op('(');
        foreach (var s in storages) keys.Str(s.Key);
        ms.Write(keys.Op('e').Stop().ToArray());
        foreach (var s in storages)
        {
            ms.Write(BitConverter.GetBytes(s.Numel));
            if (s.Data is not null) ms.Write(s.Data);
            else
            {
                ms.SetLength(ms.Length + s.HoleBytes);
                ms.Seek(0, SeekOrigin.End);
            }
        }
    }

    public static byte[] Floats(params float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>
    /// A zip archive written by hand with Zip64 records (as PyTorch's writer makes them for files over 4 GiB): stored
    /// entries, an entry without data being a hole of <c>HoleBytes</c> zeros (sparse on disk, its CRC computed
    /// arithmetically), Zip64 extra fields for sizes and offsets past 4 GiB, and the Zip64 end records.
    /// </summary>
    public static void WriteZip64(string path, (string Name, byte[]? Data, long HoleBytes)[] entries)
    {
        using var fs = File.Create(path);
        var w = new BinaryWriter(fs);
        var central = new List<(byte[] Name, uint Crc, long Size, long Offset)>();
        foreach (var (name, data, hole) in entries)
        {
            long offset = fs.Position;
            long size = data?.LongLength ?? hole;
            uint crc = data is not null ? Crc32(data) : Crc32OfZeros(hole);
            var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
            bool big = size >= uint.MaxValue;
            w.Write(0x04034b50u); w.Write((ushort)45); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0x21);
            w.Write(crc); w.Write(big ? uint.MaxValue : (uint)size); w.Write(big ? uint.MaxValue : (uint)size);
            w.Write((ushort)nameBytes.Length); w.Write((ushort)(big ? 20 : 0)); w.Write(nameBytes);
            if (big) { w.Write((ushort)1); w.Write((ushort)16); w.Write(size); w.Write(size); }
            w.Flush();
            if (data is not null) fs.Write(data);
            else
            {
                fs.SetLength(fs.Length + hole);
                fs.Seek(0, SeekOrigin.End);
            }
            central.Add((nameBytes, crc, size, offset));
        }
        long cdStart = fs.Position;
        foreach (var (name, crc, size, offset) in central)
        {
            bool bigSize = size >= uint.MaxValue, bigOffset = offset >= uint.MaxValue;
            int extra = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
            w.Write(0x02014b50u); w.Write((ushort)45); w.Write((ushort)45); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0x21);
            w.Write(crc); w.Write(bigSize ? uint.MaxValue : (uint)size); w.Write(bigSize ? uint.MaxValue : (uint)size);
            w.Write((ushort)name.Length); w.Write((ushort)(extra > 0 ? extra + 4 : 0)); w.Write((ushort)0);
            w.Write((ushort)0); w.Write((ushort)0); w.Write(0u); w.Write(bigOffset ? uint.MaxValue : (uint)offset);
            w.Write(name);
            if (extra > 0)
            {
                w.Write((ushort)1); w.Write((ushort)extra);
                if (bigSize) { w.Write(size); w.Write(size); }
                if (bigOffset) w.Write(offset);
            }
        }
        long cdEnd = fs.Position;
        w.Write(0x06064b50u); w.Write(44L); w.Write((ushort)45); w.Write((ushort)45); w.Write(0u); w.Write(0u);
        w.Write((long)central.Count); w.Write((long)central.Count); w.Write(cdEnd - cdStart); w.Write(cdStart);
        w.Write(0x07064b50u); w.Write(0u); w.Write(cdEnd); w.Write(1u);
        w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0xFFFF); w.Write((ushort)0xFFFF);
        w.Write(uint.MaxValue); w.Write(uint.MaxValue); w.Write((ushort)0);
        w.Flush();
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>CRC-32 (zip's, reflected 0xEDB88320) of some bytes.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (var b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    /// <summary>CRC-32 of <paramref name="count"/> zero bytes without reading them: the register's zero-bit operator
    /// (a GF(2) 32x32 matrix) raised to the count by squaring, as zlib's crc32_combine does.</summary>
    public static uint Crc32OfZeros(long count)
    {
        static uint Times(uint[] m, uint v)
        {
            uint sum = 0;
            for (int i = 0; v != 0; i++, v >>= 1) if ((v & 1) != 0) sum ^= m[i];
            return sum;
        }
        static void Square(uint[] sq, uint[] m) { for (int n = 0; n < 32; n++) sq[n] = Times(m, m[n]); }
        var odd = new uint[32];
        var even = new uint[32];
        odd[0] = 0xEDB88320u;
        for (int n = 1; n < 32; n++) odd[n] = 1u << (n - 1);
        Square(even, odd); // two zero bits
        Square(odd, even); // four zero bits
        uint crc = 0xFFFFFFFFu;
        long len = count;
        while (len != 0)
        {
            Square(even, odd);
            if ((len & 1) != 0) crc = Times(even, crc);
            len >>= 1;
            if (len == 0) break;
            Square(odd, even);
            if ((len & 1) != 0) crc = Times(odd, crc);
            len >>= 1;
        }
        return ~crc;
    }
}
