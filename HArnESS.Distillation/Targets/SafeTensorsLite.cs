using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// A minimal safetensors reader/writer (F32, F64, I64) for the few small tensors Targets saves (codebooks, PCA).
/// Stand-in until the Checkpoints area's <c>SafeTensors</c> is merged; the files are standard safetensors.
/// </summary>
internal static class SafeTensorsLite
{
    private const long MaxHeader = 16 * 1024 * 1024;

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var (code, bytes) = ToBytes(t);
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = code,
                ["shape"] = t.shape,
                ["data_offsets"] = new[] { offset, offset + bytes.LongLength },
            };
            blobs.Add(bytes);
            offset += bytes.LongLength;
        }
        var json = JsonSerializer.Serialize(header);
        var pad = (8 - Encoding.UTF8.GetByteCount(json) % 8) % 8;
        var headerBytes = Encoding.UTF8.GetBytes(json + new string(' ', pad));
        var tmp = path + ".tmp";
        using (var fs = File.Create(tmp))
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)headerBytes.LongLength);
            fs.Write(len);
            fs.Write(headerBytes);
            foreach (var b in blobs) fs.Write(b);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new HArnessDataException($"File not found: '{path}'.", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new HArnessFormatException($"'{path}' is too short to be a safetensors file.", path);
        var n = (long)BitConverter.ToUInt64(bytes, 0);
        if (n <= 0 || n > MaxHeader || 8 + n > bytes.LongLength)
            throw new HArnessFormatException($"'{path}': safetensors header size {n} is out of range for a {bytes.Length}-byte file.", path);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var tensors = new Dictionary<string, Tensor>();
        var meta = new Dictionary<string, string>();
        var dataStart = 8 + n;
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                foreach (var m in prop.Value.EnumerateObject()) meta[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            var dtype = prop.Value.GetProperty("dtype").GetString();
            var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offs = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || dataStart + offs[1] > bytes.LongLength)
                throw new HArnessFormatException($"'{path}': tensor '{prop.Name}' has data offsets beyond the file.", path);
            var span = bytes.AsSpan((int)(dataStart + offs[0]), (int)(offs[1] - offs[0]));
            var count = shape.Aggregate(1L, (a, b) => a * b);
            tensors[prop.Name] = dtype switch
            {
                "F32" when span.Length == count * 4 => torch.tensor(MemoryMarshal.Cast<byte, float>(span).ToArray(), shape),
                "F64" when span.Length == count * 8 => torch.tensor(MemoryMarshal.Cast<byte, double>(span).ToArray(), shape),
                "I64" when span.Length == count * 8 => torch.tensor(MemoryMarshal.Cast<byte, long>(span).ToArray(), shape),
                _ => throw new HArnessFormatException(
                    $"'{path}': tensor '{prop.Name}' has dtype {dtype} with {span.Length} bytes for shape [{string.Join(", ", shape)}]; expected F32/F64/I64 of matching size.", path),
            };
        }
        return (tensors, meta);
    }

    private static (string Code, byte[] Bytes) ToBytes(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.dtype switch
        {
            ScalarType.Float32 => ("F32", MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()).ToArray()),
            ScalarType.Float64 => ("F64", MemoryMarshal.AsBytes(c.data<double>().ToArray().AsSpan()).ToArray()),
            ScalarType.Int64 => ("I64", MemoryMarshal.AsBytes(c.data<long>().ToArray().AsSpan()).ToArray()),
            _ => throw new HArnessConfigException($"Cannot save dtype {c.dtype}; expected float32, float64 or int64.", "tensor"),
        };
    }
}
