using HArnESS.Runtime;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>
/// Saves and loads any <see cref="nn.Module"/>'s <c>state_dict()</c> (parameters and persistent buffers, by their
/// TorchSharp names) as a safetensors file, written atomically. Loading compares names and shapes from the file's
/// header before reading a byte, then reads one tensor at a time straight to the module's device and dtype. No
/// key mapping: model import from HF / fairseq / torchaudio layouts lives in <c>HArnESS.Checkpoints</c>.
/// </summary>
public static class ModuleState
{
    /// <summary>Writes the module's <c>state_dict()</c> to <paramref name="path"/> (see <see cref="SafeTensors.Save"/>).</summary>
    /// <param name="path">File to write (replaced if it exists).</param>
    /// <param name="module">The module; its tensors are read, never changed.</param>
    /// <param name="metadata">Optional string metadata stored under <c>__metadata__</c> (a config, a step, a signature).</param>
    /// <exception cref="HArnessCheckpointException">A tensor type safetensors cannot hold.</exception>
    public static void Save(string path, nn.Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(module);
        HArnessRuntime.EnsureInitialized();
        SafeTensors.Save(path, module.state_dict(), metadata);
    }

    /// <summary>
    /// Copies the tensors of a safetensors file into the module's parameters and buffers (converted to each one's
    /// dtype and device, under <c>no_grad</c>). Strict (the default): any missing, unexpected or mis-shaped key throws
    /// before anything is copied, so the module is unchanged. Lenient: every tensor that fits is copied and the report
    /// lists the rest (logged as a warning when <paramref name="logger"/> is given and the report is not clean).
    /// </summary>
    /// <param name="path">A safetensors file, as <see cref="Save"/> writes it.</param>
    /// <param name="module">The module to fill.</param>
    /// <param name="strict">Refuse any mismatch (true) or load what fits and report the rest (false).</param>
    /// <param name="logger">Where a lenient load's report goes; none when null.</param>
    /// <returns>What was loaded, missing, unexpected and mis-shaped.</returns>
    /// <exception cref="HArnessCheckpointException">Strict and the keys do not match (the file and every problem key named).</exception>
    /// <exception cref="HArnessFormatException">The file is not a valid safetensors file.</exception>
    public static ModuleStateReport Load(string path, nn.Module module, bool strict = true, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(module);
        HArnessRuntime.EnsureInitialized();
        using var file = SafeTensorsFile.Open(path);
        var source = file.Keys.ToDictionary(k => k, k => (IReadOnlyList<long>)file.GetInfo(k).Shape, StringComparer.Ordinal);
        return Copy(module, source, k => file.GetTensor(k), path, strict, logger);
    }

    /// <summary>As <see cref="Load(string, nn.Module, bool, ILogger?)"/>, from tensors in memory.</summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="stateDict">Tensors by the module's <c>state_dict()</c> names.</param>
    /// <param name="strict">Refuse any mismatch (true) or load what fits and report the rest (false).</param>
    /// <param name="source">Where the tensors came from, for messages.</param>
    /// <param name="logger">Where a lenient load's report goes; none when null.</param>
    /// <exception cref="HArnessCheckpointException">Strict and the keys do not match.</exception>
    public static ModuleStateReport Load(nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true,
        string? source = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stateDict);
        var shapes = stateDict.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<long>)kv.Value.shape, StringComparer.Ordinal);
        return Copy(module, shapes, k => stateDict[k], source, strict, logger);
    }

    private static ModuleStateReport Copy<T>(nn.Module module, Dictionary<string, IReadOnlyList<long>> shapes, Func<string, T> get,
        string? source, bool strict, ILogger? logger)
    {
        var target = module.state_dict();
        var missing = target.Keys.Where(k => !shapes.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = shapes.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var misShaped = shapes.Where(kv => target.TryGetValue(kv.Key, out var p) && !p.shape.SequenceEqual(kv.Value))
            .Select(kv => new MisShapedTensor(kv.Key, target[kv.Key].shape, kv.Value))
            .OrderBy(m => m.Key, StringComparer.Ordinal).ToList();
        var report = new ModuleStateReport(missing, unexpected, misShaped, 0);
        string name = source ?? "(state dict)";
        if (!report.IsClean && strict)
            throw new HArnessCheckpointException(
                $"Module state '{name}' does not fit the module ({module.GetType().Name}):{Environment.NewLine}{report.Describe()}", source);
        int loaded = 0;
        using (no_grad())
        {
            foreach (var (k, p) in target)
            {
                if (!shapes.TryGetValue(k, out var shape) || !p.shape.SequenceEqual(shape)) continue;
                using var scope = NewDisposeScope();
                var value = get(k);
                if (value is CheckpointTensor stored) p.copy_(stored.Load(p.device, p.dtype));
                else if (value is Tensor t) p.copy_(t);
                loaded++;
            }
        }
        report = report with { Loaded = loaded };
        if (!report.IsClean)
            logger?.LogWarning("Lenient module state load from {Source}: {Report}", name, report.Describe());
        return report;
    }
}
