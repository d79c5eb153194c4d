using System.Text.Json;
using HArnESS.Encoders;
using HArnESS.Runtime;
using HArnESS.Serialization;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace HArnESS.Checkpoints;

/// <summary>
/// Reads speech-encoder checkpoints in any supported form into HArnESS names: an HF folder (<c>config.json</c> +
/// <c>model.safetensors</c> or <c>pytorch_model.bin</c>, also sharded with an <c>*.index.json</c>), a single
/// <c>.safetensors</c>, a <c>.bin</c>/<c>.pt</c> state dict (HF or torchaudio keys), or a fairseq <c>.pt</c>
/// (<c>{"model": …, "cfg"/"args": …}</c>, pretrained or fine-tuned).
/// </summary>
public static class CheckpointLoader
{
    /// <summary>Weight file names looked for in a folder, in order.</summary>
    public static IReadOnlyList<string> WeightFileNames { get; } =
        ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "checkpoint.pt"];

    /// <summary>Reads the tensors and the config.</summary>
    /// <param name="path">A folder or a file (see the class summary).</param>
    /// <param name="options">Config hints, device, dtype, leniency; null for the defaults.</param>
    /// <returns>Tensors by HArnESS name and the config; dispose it when done.</returns>
    /// <exception cref="FileNotFoundException">The path or its weights do not exist.</exception>
    /// <exception cref="HArnessCheckpointException">The file cannot be read safely or has no encoder weights.</exception>
    /// <exception cref="HArnessFormatException">A safetensors file is malformed.</exception>
    public static CheckpointContents LoadStateDict(string path, CheckpointLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= CheckpointLoadOptions.Default;
        HArnessRuntime.EnsureInitialized();
        var (weights, configPath) = Resolve(path);
        var pickleOptions = new TorchPickleOptions { AllowUnknownGlobals = options.Lenient };
        var disposables = new List<IDisposable>();
        try
        {
            var raw = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
            object? pickleRoot = null;
            foreach (var file in ShardFiles(weights))
            {
                if (file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                {
                    var st = SafeTensorsFile.Open(file);
                    disposables.Add(st);
                    foreach (var k in st.Keys) raw[k] = st.GetTensor(k);
                }
                else
                {
                    var reader = TorchPickleReader.Open(file, pickleOptions);
                    disposables.Add(reader);
                    pickleRoot ??= reader.Root;
                    foreach (var (k, t) in reader.Tensors(SelectStateDict(reader.Root))) raw[k] = t;
                }
            }
            if (raw.Count == 0) throw new HArnessCheckpointException($"Checkpoint '{weights}' holds no tensors.", weights);

            var layout = CheckpointKeyMap.DetectLayout(raw.Keys);
            var (mapped, ignored) = CheckpointKeyMap.MapAll(raw, layout, weights);
            var (config, source, inferred) = ChooseConfig(options, configPath, layout, pickleRoot, mapped, weights);
            if (inferred.Count > 0)
            {
                var logger = options.LoggerFactory.CreateLogger(typeof(CheckpointLoader).FullName!);
                foreach (var f in inferred)
                    logger.LogWarning("Checkpoint '{Path}' has no config: inferred {Option} = {Value} ({Reason}).", weights, f.Option, f.Value, f.Reason);
            }
            // A config that asks for masked_spec_embed (mask_time_prob > 0) while the checkpoint has none
            // (torchaudio, some exports) would leave it random: the model is built without it instead.
            if (config.HasMaskEmbedding && !mapped.ContainsKey("masked_spec_embed") && options.Config is null)
                config = config with { MaskTimeProb = 0 };

            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            try
            {
                foreach (var (name, t) in mapped)
                {
                    var dtype = options.DType is { } want && TorchSharp.torch.is_floating_point(t.DType) ? want : (ScalarType?)null;
                    tensors[name] = t.Load(options.Device, dtype);
                }
            }
            catch
            {
                foreach (var t in tensors.Values) t.Dispose();
                throw;
            }
            return new CheckpointContents(tensors, config, layout, weights, source, ignored, inferred);
        }
        finally
        {
            foreach (var d in disposables) d.Dispose();
        }
    }

    /// <summary>The weights file and the <c>config.json</c> (if any) for a folder or file path.</summary>
    /// <param name="path">A folder or a weights file.</param>
    /// <exception cref="FileNotFoundException">Nothing usable is there.</exception>
    public static (string WeightsPath, string? ConfigPath) Resolve(string path)
    {
        if (Directory.Exists(path))
        {
            var config = Path.Combine(path, "config.json");
            foreach (var name in WeightFileNames)
            {
                var candidate = Path.Combine(path, name);
                if (File.Exists(candidate)) return (candidate, File.Exists(config) ? config : null);
            }
            var any = Directory.GetFiles(path, "*.safetensors").Concat(Directory.GetFiles(path, "*.pt")).Order(StringComparer.Ordinal).ToList();
            if (any.Count == 1) return (any[0], File.Exists(config) ? config : null);
            throw new FileNotFoundException(
                $"Folder '{path}' has no weights: expected one of {string.Join(", ", WeightFileNames)} (or a single .safetensors/.pt).", path);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var sibling = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "config.json");
        return (path, File.Exists(sibling) ? sibling : null);
    }

    private static IEnumerable<string> ShardFiles(string weights)
    {
        if (!weights.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) return [weights];
        var dir = Path.GetDirectoryName(Path.GetFullPath(weights))!;
        using var doc = JsonDocument.Parse(File.ReadAllText(weights));
        if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new HArnessCheckpointException($"Shard index '{weights}' has no 'weight_map' object.", weights);
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var p in map.EnumerateObject())
        {
            var f = p.Value.GetString() ?? "";
            if (f.Length == 0 || f.Contains('/') || f.Contains('\\') || f.Contains(".."))
                throw new HArnessCheckpointException($"Shard index '{weights}' names shard '{f}' for '{p.Name}'; shards must be plain file names in the same folder.", weights);
            files.Add(f);
        }
        return files.Select(f => Path.Combine(dir, f));
    }

    private static object? SelectStateDict(object? root)
    {
        if (root is not Dictionary<object, object?> d) return root;
        foreach (var key in new[] { "model", "state_dict", "model_state_dict", "module" })
            if (d.TryGetValue(key, out var inner) && inner is Dictionary<object, object?> m && m.Values.Any(v => v is CheckpointTensor))
                return m;
        return d;
    }

    private static (SpeechEncoderConfig, string, IReadOnlyList<InferredConfigField>) ChooseConfig(CheckpointLoadOptions options, string? configPath,
        CheckpointLayout layout, object? pickleRoot, Dictionary<string, CheckpointTensor> mapped, string weights)
    {
        if (options.Config is { } given)
        {
            given.Validate("CheckpointLoadOptions.Config");
            return (given, "options", []);
        }
        if (configPath is not null && layout == CheckpointLayout.HuggingFace) return (HfConfigJson.Read(configPath), configPath, []);
        if (layout == CheckpointLayout.Fairseq && FairseqConfig.TryRead(pickleRoot, weights) is { } fs) return (fs, "fairseq cfg", []);
        var shapes = mapped.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal);
        bool hubert = pickleRoot is Dictionary<object, object?> root && root.ContainsKey("label_embs_concat");
        var (config, inferred) = ConfigInference.InferWithFields(shapes, options, hubert ? "hubert" : "wav2vec2", weights,
            hubert ? "the checkpoint has HuBERT's label_embs_concat" : "shapes cannot tell hubert from wav2vec2; the default (only the HF config's model_type differs)");
        return (config, "inferred from tensor shapes", inferred);
    }
}
