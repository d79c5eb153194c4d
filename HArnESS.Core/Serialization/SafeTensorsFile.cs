using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>
/// An open safetensors file: the header is read and validated on <see cref="Open"/>, tensors are read lazily by
/// name from a read-only memory map. Dispose it when done (tensors already loaded stay valid).
/// </summary>
/// <remarks>
/// Format (huggingface/safetensors): an 8-byte little-endian header length <c>N</c>, <c>N</c> bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {str: str}}</c>, then
/// the data buffer; offsets are relative to the start of the buffer. Validation: <c>N</c> ≤
/// <see cref="SafeTensors.MaxHeaderBytes"/> and within the file, the header is a JSON object without duplicate keys,
/// every dtype is known, <c>begin ≤ end ≤ buffer length</c>, <c>end − begin = elements × element size</c>, and no two
/// tensors overlap. Gaps between tensors are tolerated (the reference refuses them; nothing is lost by reading them).
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly Dictionary<string, SafeTensorInfo> _entries;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _dataStart;
    private bool _disposed;

    private SafeTensorsFile(string path, Dictionary<string, SafeTensorInfo> entries,
        IReadOnlyDictionary<string, string> metadata, long dataStart, long fileLength)
    {
        FilePath = path;
        _entries = entries;
        Metadata = metadata;
        _dataStart = dataStart;
        Keys = entries.Keys.Order(StringComparer.Ordinal).ToArray();
        if (fileLength > dataStart)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
        }
    }

    /// <summary>Path of the file.</summary>
    public string FilePath { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when the header has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names in ordinal order.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>Header entries by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorInfo> Entries => _entries;

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <param name="path">File to open.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="HArnessFormatException">The header is malformed; the message names the file and the key.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        long fileLength;
        byte[] header;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            fileLength = fs.Length;
            if (fileLength < 8)
                throw new HArnessFormatException($"Safetensors file '{path}' is {fileLength} bytes; it must start with an 8-byte header length.", path);
            Span<byte> lenBytes = stackalloc byte[8];
            fs.ReadExactly(lenBytes);
            ulong n = BitConverter.ToUInt64(lenBytes);
            if (n > SafeTensors.MaxHeaderBytes)
                throw new HArnessFormatException($"Safetensors file '{path}': header length {n} exceeds the limit of {SafeTensors.MaxHeaderBytes} bytes.", path);
            if (n < 2 || (long)n > fileLength - 8)
                throw new HArnessFormatException($"Safetensors file '{path}': header length {n} does not fit in the file ({fileLength} bytes, header must be 2..{fileLength - 8}).", path);
            header = new byte[(int)n];
            fs.ReadExactly(header);
        }
        long dataStart = 8 + header.Length;
        var (entries, metadata) = ParseHeader(path, header, fileLength - dataStart);
        return new SafeTensorsFile(path, entries, metadata, dataStart, fileLength);
    }

    /// <summary>True when the file holds a tensor of that name.</summary>
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Header entry of a tensor.</summary>
    /// <exception cref="HArnessCheckpointException">No tensor of that name.</exception>
    public SafeTensorInfo GetInfo(string name) =>
        _entries.TryGetValue(name, out var info)
            ? info
            : throw new HArnessCheckpointException($"Safetensors file '{FilePath}' has no tensor '{name}'.", FilePath);

    /// <summary>Reads one tensor into a new tensor that owns its memory.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="device">Target device; CPU when null.</param>
    /// <param name="dtype">Target element type; the stored type when null.</param>
    /// <exception cref="HArnessCheckpointException">No such tensor, or a type TorchSharp cannot hold.</exception>
    public Tensor Load(string name, Device? device = null, ScalarType? dtype = null) =>
        GetTensor(name).Load(device, dtype);

    /// <summary>A lazy handle on one tensor (read when <see cref="CheckpointTensor.Load"/> is called, while the file is open).</summary>
    /// <exception cref="HArnessCheckpointException">No such tensor, or a type TorchSharp cannot hold.</exception>
    public CheckpointTensor GetTensor(string name)
    {
        var info = GetInfo(name);
        var st = info.ScalarType
            ?? throw new HArnessCheckpointException($"Safetensors file '{FilePath}': tensor '{name}' has dtype {info.DType}, which TorchSharp cannot hold.", FilePath);
        return new MappedTensor(this, info, st);
    }

    /// <summary>Reads every tensor (ordinal name order).</summary>
    /// <param name="device">Target device; CPU when null.</param>
    /// <param name="dtype">Target element type; the stored type when null.</param>
    public Dictionary<string, Tensor> LoadAll(Device? device = null, ScalarType? dtype = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var k in Keys) result[k] = Load(k, device, dtype);
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Releases the memory map.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view?.Dispose();
        _map?.Dispose();
    }

    private unsafe Tensor ReadMapped(SafeTensorInfo info, ScalarType st)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.ByteLength == 0 || _view is null)
            return CheckpointTensor.FromBytes(ReadOnlySpan<byte>.Empty, st, info.Shape, info.Name, FilePath);
        byte* ptr = null;
        var handle = _view.SafeMemoryMappedViewHandle;
        handle.AcquirePointer(ref ptr);
        try
        {
            ptr += _view.PointerOffset + _dataStart + info.Begin;
            if (info.ByteLength > int.MaxValue)
                throw new HArnessCheckpointException($"Tensor '{info.Name}' in '{FilePath}' is over 2 GiB; not supported.", FilePath);
            return CheckpointTensor.FromBytes(new ReadOnlySpan<byte>(ptr, (int)info.ByteLength), st, info.Shape, info.Name, FilePath);
        }
        finally
        {
            handle.ReleasePointer();
        }
    }

    private static (Dictionary<string, SafeTensorInfo>, IReadOnlyDictionary<string, string>) ParseHeader(
        string path, byte[] header, long bufferLength)
    {
        // System.Text.Json checks UTF-8 only when a string is read (a key's Name throws InvalidOperationException):
        // check the whole header first, so a bad byte anywhere is a format error naming the offset.
        if (System.Text.Unicode.Utf8.IsValid(header) is false)
        {
            int at = 0;
            while (Rune.DecodeFromUtf8(header.AsSpan(at), out _, out int used) == System.Buffers.OperationStatus.Done) at += used;
            throw new HArnessFormatException($"Safetensors file '{path}': header is not valid UTF-8 (at header byte {at}, file offset {8 + at}).", path);
        }
        JsonDocument doc;
        try
        {
            // Header bytes may be padded with trailing spaces (the reference pads to 8-byte alignment).
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new HArnessFormatException($"Safetensors file '{path}': header is not valid JSON ({e.Message}).", path, e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || header[0] != (byte)'{')
                throw new HArnessFormatException($"Safetensors file '{path}': header must be a JSON object starting with '{{'.", path);
            var entries = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool seenMetadata = false;
            foreach (var prop in root.EnumerateObject())
            {
                string key = prop.Name;
                if (key == "__metadata__")
                {
                    if (seenMetadata) throw Bad(path, key, "appears twice");
                    seenMetadata = true;
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad(path, key, "must be an object of strings");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw Bad(path, key, $"value of '{m.Name}' must be a string");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw Bad(path, key, $"repeats '{m.Name}'");
                    }
                    continue;
                }
                if (entries.ContainsKey(key)) throw Bad(path, key, "appears twice");
                entries[key] = ParseEntry(path, key, prop.Value, bufferLength);
            }
            CheckOverlaps(path, entries.Values);
            return (entries, metadata);
        }
    }

    private static SafeTensorInfo ParseEntry(string path, string key, JsonElement e, long bufferLength)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Bad(path, key, "must be an object with dtype, shape and data_offsets");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw Bad(path, key, "has no string 'dtype'");
        var dtypeText = dt.GetString()!;
        // Enum.TryParse alone would also accept numbers ("3"); only the exact names are valid.
        if (!Enum.GetNames<SafeTensorDType>().Contains(dtypeText) || !Enum.TryParse<SafeTensorDType>(dtypeText, out var dtype))
            throw Bad(path, key, $"has unknown dtype '{dtypeText}' (expected one of {string.Join(", ", Enum.GetNames<SafeTensorDType>())})");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw Bad(path, key, "has no 'shape' array");
        if (sh.GetArrayLength() > 64) throw Bad(path, key, $"has {sh.GetArrayLength()} dimensions (at most 64)");
        var shape = new long[sh.GetArrayLength()];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var v) || v < 0)
                throw Bad(path, key, "has a shape entry that is not a non-negative integer");
            shape[i++] = v;
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw Bad(path, key, "has no 'data_offsets' pair [begin, end]");
        var b = off[0];
        var en = off[1];
        if (b.ValueKind != JsonValueKind.Number || !b.TryGetInt64(out var begin) || begin < 0
            || en.ValueKind != JsonValueKind.Number || !en.TryGetInt64(out var end) || end < 0)
            throw Bad(path, key, "has data_offsets that are not non-negative integers");
        if (begin > end) throw Bad(path, key, $"has data_offsets [{begin}, {end}] with begin > end");
        if (end > bufferLength)
            throw Bad(path, key, $"has data_offsets [{begin}, {end}] beyond the data buffer ({bufferLength} bytes)");
        var count = TensorDTypes.ElementCount(shape);
        if (!TensorDTypes.FitsInMemoryLayout(shape, TensorDTypes.SizeOf(dtype)))
            throw Bad(path, key, $"has shape {CheckpointTensor.FormatShape(shape)}, whose strides overflow 64 bits");
        long? expected = null;
        if (count is { } c)
        {
            try { expected = checked(c * TensorDTypes.SizeOf(dtype)); }
            catch (OverflowException) { }
        }
        if (expected != end - begin)
            throw Bad(path, key, $"holds {end - begin} bytes but shape {CheckpointTensor.FormatShape(shape)} of {dtype} needs {(expected?.ToString() ?? "more than 2^63")}");
        return new SafeTensorInfo(key, dtype, shape, begin, end);
    }

    private static void CheckOverlaps(string path, IEnumerable<SafeTensorInfo> infos)
    {
        SafeTensorInfo? prev = null;
        foreach (var info in infos.Where(x => x.ByteLength > 0).OrderBy(x => x.Begin))
        {
            if (prev is not null && info.Begin < prev.End)
                throw Bad(path, info.Name, $"has data_offsets [{info.Begin}, {info.End}] overlapping '{prev.Name}' [{prev.Begin}, {prev.End}]");
            prev = info;
        }
    }

    private static HArnessFormatException Bad(string path, string key, string what) =>
        new($"Safetensors file '{path}': entry '{key}' {what}.", path);

    private sealed class MappedTensor(SafeTensorsFile file, SafeTensorInfo info, ScalarType st)
        : CheckpointTensor(info.Name, st, info.Shape, file.FilePath)
    {
        protected override Tensor LoadCpu() => file.ReadMapped(info, DType);
    }
}
