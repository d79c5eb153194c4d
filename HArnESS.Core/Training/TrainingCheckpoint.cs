using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using HArnESS.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Training;

/// <summary>
/// The trainer's checkpoint files: one safetensors file per checkpoint holding the float32 master weights
/// (<c>model.{module}.{parameter}</c>), the AdamW moments (<c>optim.{module}.{parameter}.exp_avg[_sq]</c>), the
/// libtorch CPU generator state (<c>rng.cpu</c>) and the step generator's state (<c>rng.step</c>); the metadata holds
/// the JSON state (step, loader position, scheduler step, loss scaler, best metric, loss history, the run config)
/// and a SHA-256 over all of it (<c>harness.sha256</c>), so a torn or truncated file is detected.
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>The metadata key of the JSON state.</summary>
    public const string StateKey = "harness.training";

    /// <summary>The metadata key of the checksum.</summary>
    public const string ChecksumKey = "harness.sha256";

    /// <summary>The file name of the periodic checkpoint after <paramref name="step"/> updates.</summary>
    public static string FileName(long step) => $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}.safetensors";

    /// <summary>The file name of the best checkpoint.</summary>
    public const string BestFileName = "best.safetensors";

    internal static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The periodic checkpoints in a folder, newest first (by step in the name; nothing is read).</summary>
    /// <param name="directory">The checkpoint folder.</param>
    public static IReadOnlyList<string> List(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        return Directory.GetFiles(directory, "step-*.safetensors")
            .Select(f => (File: f, Step: long.TryParse(Path.GetFileNameWithoutExtension(f)["step-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : -1))
            .Where(x => x.Step >= 0).OrderByDescending(x => x.Step).Select(x => x.File).ToArray();
    }

    /// <summary>Checks a checkpoint file: readable, complete, checksum matching.</summary>
    /// <param name="path">The file.</param>
    /// <param name="problem">What is wrong, when it is not intact.</param>
    /// <returns>True when the file is intact.</returns>
    public static bool Verify(string path, out string? problem)
    {
        var ok = TryRead(path, out var tensors, out _, out problem);
        if (tensors is not null) foreach (var t in tensors.Values) t.Dispose();
        return ok;
    }

    /// <summary>The number of updates a checkpoint was written after.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="HArnessCheckpointException">The file is not an intact training checkpoint.</exception>
    public static long ReadStep(string path)
    {
        using var f = OpenChecked(path);
        return ParseState(f.Metadata, path).Step;
    }

    /// <summary>Loads the master weights of a checkpoint into modules (e.g. the best checkpoint after training), by
    /// the modules' names; each module's parameters must all be present with their shapes.</summary>
    /// <param name="path">The checkpoint.</param>
    /// <param name="modules">The modules, named as in training.</param>
    /// <exception cref="HArnessCheckpointException">The file is not intact, or a tensor is missing or mis-shaped (named).</exception>
    public static void LoadWeights(string path, IReadOnlyList<TrainableModule> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        if (!TryRead(path, out var tensors, out _, out var problem))
            throw new HArnessCheckpointException($"Cannot load training checkpoint '{path}': {problem}", path);
        try
        {
            using var noGrad = no_grad();
            foreach (var m in modules)
                foreach (var (name, p) in m.Module.named_parameters())
                {
                    var key = $"model.{m.Name}.{name}";
                    if (!tensors!.TryGetValue(key, out var t))
                        throw new HArnessCheckpointException($"Tensor '{key}' is missing from '{path}'.", path);
                    if (!t.shape.SequenceEqual(p.shape))
                        throw new HArnessCheckpointException($"Tensor '{key}' in '{path}' has shape [{string.Join(", ", t.shape)}], the module's is [{string.Join(", ", p.shape)}].", path);
                    p.copy_(t);
                }
        }
        finally
        {
            foreach (var t in tensors!.Values) t.Dispose();
        }
    }

    internal static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, CheckpointState state)
    {
        var json = JsonSerializer.Serialize(state, Json);
        var sha = Checksum(tensors, json);
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { [StateKey] = json, [ChecksumKey] = sha });
    }

    internal static bool TryRead(string path, out Dictionary<string, Tensor>? tensors, out CheckpointState? state, out string? problem)
    {
        tensors = null;
        state = null;
        try
        {
            using var f = SafeTensorsFile.Open(path);
            if (!f.Metadata.TryGetValue(StateKey, out var json) || !f.Metadata.TryGetValue(ChecksumKey, out var sha))
            {
                problem = $"it has no '{StateKey}'/'{ChecksumKey}' metadata (not a training checkpoint).";
                return false;
            }
            tensors = f.LoadAll();
            var actual = Checksum(tensors, json);
            if (!string.Equals(actual, sha, StringComparison.Ordinal))
            {
                problem = $"its checksum does not match (stored {sha[..Math.Min(12, sha.Length)]}…, computed {actual[..12]}…): the file is torn or corrupted.";
                foreach (var t in tensors.Values) t.Dispose();
                tensors = null;
                return false;
            }
            state = ParseState(f.Metadata, path);
            problem = null;
            return true;
        }
        catch (Exception ex) when (ex is HArnessException or IOException or UnauthorizedAccessException or JsonException or ExternalException)
        {
            if (tensors is not null) foreach (var t in tensors.Values) t.Dispose();
            tensors = null;
            problem = ex.Message;
            return false;
        }
    }

    private static SafeTensorsFile OpenChecked(string path)
    {
        if (!Verify(path, out var problem))
            throw new HArnessCheckpointException($"Training checkpoint '{path}' is not intact: {problem}", path);
        return SafeTensorsFile.Open(path);
    }

    private static CheckpointState ParseState(IReadOnlyDictionary<string, string> metadata, string path)
    {
        try
        {
            var s = JsonSerializer.Deserialize<CheckpointState>(metadata[StateKey], Json)
                ?? throw new HArnessCheckpointException($"'{path}' has an empty '{StateKey}'.", path);
            if (s.Format != 1) throw new HArnessCheckpointException($"'{path}' has checkpoint format {s.Format}; this version reads format 1.", path);
            return s;
        }
        catch (JsonException ex)
        {
            throw new HArnessCheckpointException($"'{path}' has an unreadable '{StateKey}': {ex.Message}", path, ex);
        }
    }

    private static string Checksum(IReadOnlyDictionary<string, Tensor> tensors, string json)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in tensors.Keys.Order(StringComparer.Ordinal))
        {
            var t = tensors[name];
            h.AppendData(Encoding.UTF8.GetBytes($"{name}|{t.dtype}|{string.Join(",", t.shape)}|"));
            if (t.numel() == 0) continue;
            using var scope = NewDisposeScope();
            var c = t.detach();
            if (c.device_type != DeviceType.CPU) c = c.cpu();
            if (!c.is_contiguous()) c = c.contiguous();
            h.AppendData(c.bytes);
        }
        h.AppendData(Encoding.UTF8.GetBytes(json));
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }
}
