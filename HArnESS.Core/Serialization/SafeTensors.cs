using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>
/// Reads and writes the safetensors format (huggingface/safetensors) without Python: see <see cref="SafeTensorsFile"/>
/// for lazy, memory-mapped reads and the validation rules.
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest header accepted, in bytes (100 MB, as the reference implementation).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Opens a file for lazy reads (same as <see cref="SafeTensorsFile.Open"/>).</summary>
    /// <param name="path">File to open.</param>
    public static SafeTensorsFile Open(string path) => SafeTensorsFile.Open(path);

    /// <summary>Reads every tensor of a file.</summary>
    /// <param name="path">File to read.</param>
    /// <param name="device">Target device; CPU when null.</param>
    /// <param name="dtype">Target element type; the stored type when null.</param>
    /// <exception cref="HArnessFormatException">The file is malformed.</exception>
    public static Dictionary<string, Tensor> Load(string path, Device? device = null, ScalarType? dtype = null)
    {
        using var file = SafeTensorsFile.Open(path);
        return file.LoadAll(device, dtype);
    }

    /// <summary>
    /// Writes tensors to a safetensors file. Like the reference writer, tensors are laid out by decreasing element
    /// size, then by name (so every tensor is aligned to its element size), the header lists <c>__metadata__</c>
    /// first, and it is padded with spaces so the data starts at an 8-byte boundary. Non-contiguous and non-CPU tensors
    /// are copied first. The file is written to a temporary name and moved into place.
    /// </summary>
    /// <param name="path">File to write (replaced if it exists).</param>
    /// <param name="tensors">Tensors by name; names must be non-empty and not <c>__metadata__</c>.</param>
    /// <param name="metadata">Optional string metadata stored under <c>__metadata__</c>.</param>
    /// <exception cref="HArnessCheckpointException">A tensor type the format cannot hold, or an invalid name.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var plan = new List<(string Name, Tensor Tensor, SafeTensorDType DType)>(tensors.Count);
        foreach (var (name, t) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__")
                throw new HArnessCheckpointException($"Cannot save a tensor named '{name}' to '{path}'.", path);
            var dt = TensorDTypes.FromScalarType(t.dtype)
                ?? throw new HArnessCheckpointException($"Tensor '{name}' has type {t.dtype}, which safetensors cannot hold (saving '{path}').", path);
            plan.Add((name, t, dt));
        }
        plan.Sort((a, b) =>
        {
            int c = TensorDTypes.SizeOf(b.DType).CompareTo(TensorDTypes.SizeOf(a.DType));
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

        var header = BuildHeader(plan, metadata);
        AtomicFile.Write(path, fs =>
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)header.Length);
            fs.Write(len);
            fs.Write(header);
            foreach (var (_, t, _) in plan) WriteTensorBytes(fs, t);
        });
    }

    private static byte[] BuildHeader(List<(string Name, Tensor Tensor, SafeTensorDType DType)> plan,
        IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t, dt) in plan)
            {
                long bytes = checked(t.NumberOfElements * TensorDTypes.SizeOf(dt));
                w.WriteStartObject(name);
                w.WriteString("dtype", dt.ToString());
                w.WriteStartArray("shape");
                foreach (var d in t.shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        int n = (int)ms.Length;
        int padded = (n + 7) / 8 * 8;
        var header = new byte[padded];
        ms.GetBuffer().AsSpan(0, n).CopyTo(header);
        header.AsSpan(n).Fill((byte)' ');
        return header;
    }

    private static void WriteTensorBytes(Stream s, Tensor t)
    {
        if (t.NumberOfElements == 0) return;
        using var scope = NewDisposeScope();
        var c = t.detach();
        if (c.device_type != TorchSharp.DeviceType.CPU) c = c.cpu();
        if (!c.is_contiguous()) c = c.contiguous();
        s.Write(c.bytes);
    }
}
