using System.IO.Compression;
using System.Numerics;

namespace HArnESS.Serialization;

/// <summary>
/// Reads PyTorch <c>torch.save</c> files (<c>.bin</c>, <c>.pt</c>, <c>.pth</c>, <c>.ckpt</c>) without Python and without
/// executing anything: the zip format (<c>&lt;name&gt;/data.pkl</c> + <c>&lt;name&gt;/data/&lt;key&gt;</c>) and the
/// legacy non-zip format (<c>_use_new_zipfile_serialization=False</c>). The pickle runs in a restricted machine that
/// builds only dicts, lists, tuples, scalars and tensors (see <see cref="TorchPickleOptions"/>); tensors are read
/// lazily, one storage at a time, when <see cref="CheckpointTensor.Load"/> is called. Dispose the reader when done.
/// </summary>
public sealed class TorchPickleReader : IDisposable
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356");
    private const long LegacyProtocolVersion = 1001;

    private readonly ZipArchive? _zip;
    private readonly FileStream _stream;
    private readonly object _lock = new();

    private TorchPickleReader(string path, FileStream stream, ZipArchive? zip)
    {
        FilePath = path;
        _stream = stream;
        _zip = zip;
    }

    /// <summary>Path of the file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// The unpickled object: <c>Dictionary&lt;object, object?&gt;</c> for dicts and OrderedDicts, <c>List&lt;object?&gt;</c>
    /// for lists and sets, <c>object?[]</c> for tuples, <c>string</c>, <c>long</c>, <c>BigInteger</c>, <c>double</c>,
    /// <c>bool</c>, <c>byte[]</c>, <see cref="CheckpointTensor"/> for tensors and <see cref="PickleObject"/> for
    /// anything else the pickle was allowed to describe.
    /// </summary>
    public object? Root { get; private set; }

    /// <summary>True for the zip format, false for the legacy format.</summary>
    public bool IsZipFormat => _zip is not null;

    /// <summary>Opens a checkpoint and runs its pickle (tensor data is not read yet).</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Unpickler policy; <see cref="TorchPickleOptions.Default"/> when null.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="HArnessCheckpointException">Not a PyTorch file, a disallowed global, a malformed pickle or storage.</exception>
    public static TorchPickleReader Open(string path, TorchPickleOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= TorchPickleOptions.Default;
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        TorchPickleReader? reader = null;
        try
        {
            Span<byte> head = stackalloc byte[4];
            int n = fs.Read(head);
            fs.Position = 0;
            if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
            {
                // ZipArchive reads the central directory lazily (on Entries) and local headers on Open: every one
                // of those reads is inside this try, so a damaged archive is a named error wherever it shows.
                try
                {
                    var zip = new ZipArchive(fs, ZipArchiveMode.Read, leaveOpen: true);
                    reader = new TorchPickleReader(path, fs, zip);
                    reader.LoadZip(options);
                }
                catch (Exception e) when (IsZipError(e))
                {
                    throw Damaged(path, e);
                }
            }
            else if (n >= 2 && head[0] == 0x80)
            {
                reader = new TorchPickleReader(path, fs, null);
                try { reader.LoadLegacy(options); }
                catch (IOException e) when (e is not FileNotFoundException)
                {
                    throw new HArnessCheckpointException($"Checkpoint '{path}' cannot be read ({e.Message}).", path, e);
                }
            }
            else
            {
                throw new HArnessCheckpointException(
                    $"Checkpoint '{path}' is neither a PyTorch zip archive nor a legacy pickle checkpoint (first bytes {Convert.ToHexString(head[..n])}).", path);
            }
            return reader;
        }
        catch
        {
            if (reader is not null) reader.Dispose();
            else fs.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The tensors of a dict in the checkpoint, by dotted name: nested dicts contribute <c>outer.inner</c> names;
    /// non-tensor values are skipped.
    /// </summary>
    /// <param name="node">A dict from <see cref="Root"/>; the root itself when null.</param>
    /// <exception cref="HArnessCheckpointException">
    /// The dicts name more entries than <see cref="MaxNamedEntries"/> (a dict shared many times over makes exponentially
    /// many names). A dict that contains itself is walked once.
    /// </exception>
    public Dictionary<string, CheckpointTensor> Tensors(object? node = null)
    {
        var result = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        long visits = 0, chars = 0;
        var path = new HashSet<object>(ReferenceEqualityComparer.Instance);
        Collect(node ?? Root, "", result, 0, path, ref visits, ref chars);
        return result;
    }

    /// <summary>Most characters of tensor and dict names <see cref="Tensors"/> builds in all (16 Mi): a long key shared
    /// through the pickle's memo costs the file two bytes per use but its full length per name.</summary>
    public const long MaxNameCharacters = 1L << 24;

    /// <summary>Most dict entries <see cref="Tensors"/> walks (nested dicts included) before it refuses the file.</summary>
    public const long MaxNamedEntries = 10_000_000;

    private void Collect(object? node, string prefix, Dictionary<string, CheckpointTensor> into, int depth,
        HashSet<object> path, ref long visits, ref long chars)
    {
        if (depth > 32 || node is not Dictionary<object, object?> d) return;
        // A dict inside itself (possible in a pickle, never in a state dict) would name tensors without end: the
        // inner occurrence is skipped; its tensors are already listed under the outer name.
        if (!path.Add(d)) return;
        foreach (var (k, v) in d)
        {
            if (++visits > MaxNamedEntries)
                throw new HArnessCheckpointException(
                    $"Checkpoint '{FilePath}' names more than {MaxNamedEntries} entries (shared dicts nested in each other); refused.", FilePath);
            if (v is not (TorchTensorRef or Dictionary<object, object?>)) continue;
            string key = Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            chars += prefix.Length + key.Length;
            if (chars > MaxNameCharacters)
                throw new HArnessCheckpointException(
                    $"Checkpoint '{FilePath}' makes tensor names of more than {MaxNameCharacters} characters in all (long keys shared many times); refused.", FilePath);
            string name = prefix + key;
            if (v is TorchTensorRef t) into[name] = t.Rename(name);
            else Collect(v, name + ".", into, depth + 1, path, ref visits, ref chars);
        }
        path.Remove(d);
    }

    private static bool IsZipError(Exception e) =>
        e is InvalidDataException or NotSupportedException or (IOException and not FileNotFoundException);

    private static HArnessCheckpointException Damaged(string path, Exception e) =>
        new($"Checkpoint '{path}' is a damaged zip archive ({e.Message}).", path, e);

    /// <summary>Reads the whole checkpoint and returns the state dict's tensors (see <see cref="Tensors"/>).</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Unpickler policy.</param>
    public static Dictionary<string, TorchSharp.torch.Tensor> LoadTensors(string path, TorchPickleOptions? options = null)
    {
        using var reader = Open(path, options);
        var result = new Dictionary<string, TorchSharp.torch.Tensor>(StringComparer.Ordinal);
        foreach (var (k, t) in reader.Tensors()) result[k] = t.Load();
        return result;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        _zip?.Dispose();
        _stream.Dispose();
    }

    private void LoadZip(TorchPickleOptions options)
    {
        var pkl = _zip!.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)
                                            && e.FullName.Count(c => c == '/') == 1).ToList();
        if (pkl.Count != 1)
        {
            bool script = _zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal));
            throw new HArnessCheckpointException(script
                ? $"Checkpoint '{FilePath}' is a TorchScript archive; save the model's state_dict() instead."
                : $"Checkpoint '{FilePath}' is a zip archive without exactly one '<name>/data.pkl' (found {pkl.Count}).", FilePath);
        }
        string prefix = pkl[0].FullName[..^"data.pkl".Length];
        var bo = _zip.GetEntry(prefix + "byteorder");
        if (bo is not null)
        {
            // "little" or "big": read at most 16 bytes, whatever the entry claims (a deflate bomb stays unread).
            var head = new byte[16];
            int got = 0;
            using (var s = bo.Open())
            {
                while (got < head.Length && s.Read(head, got, head.Length - got) is var r and > 0) got += r;
            }
            if (got == head.Length)
                throw new HArnessCheckpointException(
                    $"Checkpoint '{FilePath}': entry '{bo.FullName}' is over 15 bytes; a byte order entry holds 'little' or 'big'.", FilePath);
            var order = System.Text.Encoding.ASCII.GetString(head, 0, got).Trim();
            if (order != "little")
                throw new HArnessCheckpointException(
                    $"Checkpoint '{FilePath}' stores '{(order.Length > 8 ? order[..8] + "..." : order)}' byte order; only little-endian is supported.", FilePath);
        }
        var bytes = ReadEntry(pkl[0], options.MaxPickleBytes);
        using var ms = new MemoryStream(bytes, writable: false);
        var storages = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
        var machine = new RestrictedUnpickler(ms, FilePath, options, pid => ZipStorage(pid, prefix, storages));
        Root = machine.Load();
    }

    private TorchStorageRef ZipStorage(object? pid, string prefix, Dictionary<string, TorchStorageRef> cache)
    {
        // ('storage', <storage class>, key, location, numel)
        if (pid is not object?[] { Length: >= 5 } t || t[0] as string != "storage")
            throw new HArnessCheckpointException($"Pickle in '{FilePath}' has a persistent id that is not a storage.", FilePath);
        var dtype = StorageType(t[1]);
        var key = t[2] as string ?? throw new HArnessCheckpointException($"Pickle in '{FilePath}' has a storage key that is not a string.", FilePath);
        long numel = t[4] as long? ?? throw new HArnessCheckpointException($"Pickle in '{FilePath}' has storage '{key}' with a non-integer size.", FilePath);
        if (cache.TryGetValue(key, out var known)) return known;
        var entry = _zip!.GetEntry(prefix + "data/" + key)
            ?? throw new HArnessCheckpointException($"Checkpoint '{FilePath}' has no entry '{prefix}data/{key}' for storage '{key}'.", FilePath);
        long need;
        try { need = checked(numel * TensorDTypes.SizeOf(dtype)); }
        catch (OverflowException) { throw new HArnessCheckpointException($"Checkpoint '{FilePath}': storage '{key}' declares {numel} elements, too many.", FilePath); }
        if (numel < 0 || entry.Length != need)
            throw new HArnessCheckpointException(
                $"Checkpoint '{FilePath}': storage '{key}' declares {numel} × {dtype} = {need} bytes, entry '{entry.FullName}' holds {entry.Length}.", FilePath);
        var storage = new TorchStorageRef(key, dtype, numel, 0, () => ReadEntry(entry, long.MaxValue));
        cache[key] = storage;
        return storage;
    }

    private TorchSharp.torch.ScalarType StorageType(object? o)
    {
        if (o is RestrictedUnpickler.Global g && TensorDTypes.FromStorageName(g.Module, g.Name) is { } st) return st;
        throw new HArnessCheckpointException($"Pickle in '{FilePath}' names storage type {o}, which is not a torch.*Storage class.", FilePath);
    }

    private byte[] ReadEntry(ZipArchiveEntry entry, long max)
    {
        lock (_lock)
        {
            // Bound what we allocate by what the archive can hold: stored entries cannot exceed the file, deflated
            // ones cannot exceed the deflate ratio limit.
            long bound = Math.Min(max, entry.CompressedLength == entry.Length ? _stream.Length : entry.CompressedLength * 1100L);
            if (entry.Length > bound || entry.Length > Array.MaxLength)
                throw new HArnessCheckpointException($"Checkpoint '{FilePath}': entry '{entry.FullName}' claims {entry.Length} bytes, more than allowed ({bound}).", FilePath);
            var buffer = new byte[entry.Length];
            try
            {
                using var s = entry.Open();
                s.ReadExactly(buffer);
            }
            catch (EndOfStreamException e) { throw new HArnessCheckpointException($"Checkpoint '{FilePath}': entry '{entry.FullName}' is truncated.", FilePath, e); }
            catch (Exception e) when (IsZipError(e))
            {
                throw new HArnessCheckpointException($"Checkpoint '{FilePath}': entry '{entry.FullName}' cannot be read ({e.Message}).", FilePath, e);
            }
            return buffer;
        }
    }

    private void LoadLegacy(TorchPickleOptions options)
    {
        var fs = _stream;
        var plain = new RestrictedUnpickler(fs, FilePath, options, _ => throw new HArnessCheckpointException($"Checkpoint '{FilePath}' has a persistent id in its header.", FilePath));
        var magic = plain.Load();
        if (magic is not BigInteger m || m != LegacyMagic)
        {
            if (magic is not null && fs.Position < fs.Length)
                throw new HArnessCheckpointException(
                    $"Checkpoint '{FilePath}' is a plain pickle, not a torch.save file (no magic number); it is refused rather than guessed at.", FilePath);
            throw new HArnessCheckpointException($"Checkpoint '{FilePath}' does not start with the torch.save magic number.", FilePath);
        }
        if (plain.Load() as long? != LegacyProtocolVersion)
            throw new HArnessCheckpointException($"Checkpoint '{FilePath}' has an unknown legacy protocol version (expected {LegacyProtocolVersion}).", FilePath);
        if (plain.Load() is Dictionary<object, object?> info && info.TryGetValue("little_endian", out var le) && le is false)
            throw new HArnessCheckpointException($"Checkpoint '{FilePath}' was written big-endian; only little-endian is supported.", FilePath);

        // ('storage', <class>, root key, location, numel, view metadata (view key, offset, size) or None)
        var roots = new Dictionary<string, (TorchSharp.torch.ScalarType DType, long Numel)>(StringComparer.Ordinal);
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var main = new RestrictedUnpickler(fs, FilePath, options, pid =>
        {
            if (pid is not object?[] { Length: >= 6 } t || t[0] as string != "storage")
                throw new HArnessCheckpointException($"Pickle in '{FilePath}' has a persistent id that is not a storage.", FilePath);
            var dtype = StorageType(t[1]);
            var key = t[2] as string ?? throw new HArnessCheckpointException($"Pickle in '{FilePath}' has a storage key that is not a string.", FilePath);
            long numel = t[4] as long? ?? throw new HArnessCheckpointException($"Pickle in '{FilePath}' has storage '{key}' with a non-integer size.", FilePath);
            if (numel < 0)
                throw new HArnessCheckpointException($"Pickle in '{FilePath}' has storage '{key}' with {numel} elements.", FilePath);
            if (roots.TryGetValue(key, out var seen) && seen != (dtype, numel))
                throw new HArnessCheckpointException(
                    $"Pickle in '{FilePath}' declares storage '{key}' twice, as {seen.Numel} × {seen.DType} and as {numel} × {dtype}.", FilePath);
            roots[key] = (dtype, numel);
            long viewOffset = 0;
            if (t[5] is object?[] { Length: 3 } view)
            {
                // A view on the root storage: its offset and size must lie inside the root (checked without
                // wrapping: offsets come from the file and may be anything, long.MinValue included).
                viewOffset = view[1] as long? ?? throw new HArnessCheckpointException($"Pickle in '{FilePath}' has a view of storage '{key}' whose offset is not an integer.", FilePath);
                long viewSize = view[2] as long? ?? throw new HArnessCheckpointException($"Pickle in '{FilePath}' has a view of storage '{key}' whose size is not an integer.", FilePath);
                if (viewOffset < 0 || viewSize < 0 || viewOffset > numel || viewSize > numel - viewOffset)
                    throw new HArnessCheckpointException(
                        $"Pickle in '{FilePath}' has a view [{viewOffset}, +{viewSize}) of storage '{key}', which holds {numel} elements.", FilePath);
                numel = viewSize;
            }
            else if (t[5] is not null)
                throw new HArnessCheckpointException($"Pickle in '{FilePath}' has storage '{key}' with view metadata that is not (key, offset, size).", FilePath);
            return new TorchStorageRef(key, dtype, numel, viewOffset, () => ReadLegacyStorage(key, roots, offsets));
        });
        Root = main.Load();
        var keys = plain.Load() as List<object?>
            ?? throw new HArnessCheckpointException($"Checkpoint '{FilePath}' has no storage key list after its pickle.", FilePath);
        Span<byte> len = stackalloc byte[8];
        foreach (var k in keys)
        {
            var key = k as string ?? throw new HArnessCheckpointException($"Checkpoint '{FilePath}' has a non-string storage key.", FilePath);
            if (!roots.TryGetValue(key, out var r))
                throw new HArnessCheckpointException($"Checkpoint '{FilePath}' stores data for storage '{key}', which no tensor uses.", FilePath);
            if (fs.Length - fs.Position < 8) throw new HArnessCheckpointException($"Checkpoint '{FilePath}' is truncated before storage '{key}'.", FilePath);
            fs.ReadExactly(len);
            long numel = BitConverter.ToInt64(len);
            long bytes = numel < 0 || numel > long.MaxValue / 16 ? -1 : numel * TensorDTypes.SizeOf(r.DType);
            if (offsets.ContainsKey(key))
                throw new HArnessCheckpointException($"Checkpoint '{FilePath}' stores data for storage '{key}' twice.", FilePath);
            if (numel != r.Numel || bytes < 0 || bytes > fs.Length - fs.Position)
                throw new HArnessCheckpointException($"Checkpoint '{FilePath}': storage '{key}' holds {numel} elements, the pickle declares {r.Numel} (or the file is truncated).", FilePath);
            offsets[key] = fs.Position;
            fs.Position += bytes;
        }
        var missing = roots.Keys.Where(k => !offsets.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new HArnessCheckpointException($"Checkpoint '{FilePath}' has no data for storage(s) {string.Join(", ", missing)}.", FilePath);
    }

    private byte[] ReadLegacyStorage(string key, Dictionary<string, (TorchSharp.torch.ScalarType DType, long Numel)> roots, Dictionary<string, long> offsets)
    {
        lock (_lock)
        {
            var (dtype, numel) = roots[key];
            long bytes = numel * TensorDTypes.SizeOf(dtype); // checked against the file at open
            if (bytes > Array.MaxLength)
                throw new HArnessCheckpointException($"Checkpoint '{FilePath}': storage '{key}' is {bytes} bytes; storages over 2 GiB are not supported.", FilePath);
            var buffer = new byte[bytes];
            try
            {
                _stream.Position = offsets[key];
                _stream.ReadExactly(buffer);
            }
            catch (IOException e)
            {
                throw new HArnessCheckpointException($"Checkpoint '{FilePath}': storage '{key}' cannot be read ({e.Message}).", FilePath, e);
            }
            return buffer;
        }
    }
}
