using HArnESS.Serialization;
using HArnESS.Encoders;
using HArnESS.Runtime;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Checkpoints;

/// <summary>
/// Loading and saving <see cref="SpeechEncoder"/>s: <c>SpeechEncoder.Load(path)</c>, <c>encoder.Save(dir)</c> and
/// <c>encoder.LoadWeights(stateDict)</c> (C# 14 extension members; <c>using HArnESS.Checkpoints;</c> brings them in).
/// </summary>
public static class SpeechEncoderCheckpoint
{
    /// <summary>Name of the weights file <see cref="Save"/> writes.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>Name of the config file <see cref="Save"/> writes.</summary>
    public const string ConfigFileName = "config.json";

    extension(SpeechEncoder)
    {
        /// <summary>
        /// Loads an encoder from an HF folder, a <c>.safetensors</c>, a <c>.bin</c>/<c>.pt</c> state dict (HF or
        /// torchaudio keys) or a fairseq checkpoint (see <see cref="CheckpointLoader"/>). The model is returned in
        /// eval mode. Fails when a tensor is missing, unexpected or mis-shaped unless
        /// <see cref="CheckpointLoadOptions.Lenient"/> is set.
        /// </summary>
        /// <param name="path">Folder or file.</param>
        /// <param name="options">Config hints, device, dtype, leniency; null for the defaults.</param>
        /// <exception cref="HArnessCheckpointException">The checkpoint does not fit the model (keys named) or cannot be read safely.</exception>
        public static SpeechEncoder Load(string path, CheckpointLoadOptions? options = null) =>
            LoadWithReport(path, options).Encoder;

        /// <summary>As <see cref="Load"/>, also returning what was loaded, missing, unexpected, mis-shaped and ignored.</summary>
        /// <param name="path">Folder or file.</param>
        /// <param name="options">Config hints, device, dtype, leniency; null for the defaults.</param>
        public static (SpeechEncoder Encoder, LoadReport Report) LoadWithReport(string path, CheckpointLoadOptions? options = null)
        {
            options ??= CheckpointLoadOptions.Default;
            using var contents = CheckpointLoader.LoadStateDict(path, options with { Device = null, DType = null });
            var encoder = new SpeechEncoder(contents.Config);
            try
            {
                var report = encoder.LoadWeights(contents.StateDict, options.Lenient, contents.WeightsPath, contents.IgnoredKeys)
                    with { Inferred = contents.InferredFields };
                if (!report.IsClean)
                    options.LoggerFactory.CreateLogger(typeof(SpeechEncoderCheckpoint).FullName!)
                        .LogWarning("Lenient load of '{Path}' is not clean: {Report}", contents.WeightsPath, report.Describe());
                if (options.DType is { } dt) encoder.to(dt);
                if (options.Device is { } dev) encoder.to(dev);
                encoder.eval();
                return (encoder, report);
            }
            catch
            {
                encoder.Dispose();
                throw;
            }
        }
    }

    extension(SpeechEncoder encoder)
    {
        /// <summary>
        /// Copies tensors (HArnESS names) into the encoder's parameters and buffers, converting dtype and device.
        /// </summary>
        /// <param name="stateDict">Tensors by HArnESS name.</param>
        /// <param name="lenient">When false, any missing, unexpected or mis-shaped key throws before anything is copied.</param>
        /// <param name="source">Checkpoint path for messages.</param>
        /// <param name="ignored">Keys already set aside as unused heads (reported, not checked).</param>
        /// <returns>The report.</returns>
        /// <exception cref="HArnessCheckpointException">Not lenient and the keys do not match (every problem key named).</exception>
        public LoadReport LoadWeights(IReadOnlyDictionary<string, Tensor> stateDict, bool lenient = false,
            string? source = null, IReadOnlyList<string>? ignored = null)
        {
            ArgumentNullException.ThrowIfNull(stateDict);
            var target = encoder.state_dict();
            var missing = target.Keys.Where(k => !stateDict.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            var unexpected = stateDict.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
            var misShaped = new List<MisShapedTensor>();
            foreach (var (k, t) in stateDict)
                if (target.TryGetValue(k, out var p) && !p.shape.SequenceEqual(t.shape))
                    misShaped.Add(new MisShapedTensor(k, p.shape, t.shape));
            misShaped.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            int loaded = 0;
            var report = new LoadReport(missing, unexpected, misShaped, ignored ?? [], 0);
            if (!report.IsClean && !lenient)
                throw new HArnessCheckpointException(
                    $"Checkpoint '{source ?? "(state dict)"}' does not fit the encoder ({encoder.Config.ModelType}, {encoder.Config.NumLayers} layers, dim {encoder.Config.HiddenSize}):{Environment.NewLine}{report.Describe()}",
                    source);
            using (no_grad())
            {
                foreach (var (k, t) in stateDict)
                {
                    if (!target.TryGetValue(k, out var p) || !p.shape.SequenceEqual(t.shape)) continue;
                    p.copy_(t);
                    loaded++;
                }
            }
            return report with { Loaded = loaded };
        }

        /// <summary>
        /// Saves the encoder as an HF-style folder: <c>model.safetensors</c> (its <c>state_dict()</c>, HF key names) and
        /// <c>config.json</c> (HF fields for <c>HubertModel</c>/<c>Wav2Vec2Model</c>, plus the exact HArnESS config), so
        /// transformers can load a CNN-front-end model and <see cref="Load"/> restores any model exactly.
        /// </summary>
        /// <param name="directory">Folder to write (created if needed; the two files are replaced).</param>
        public void Save(string directory)
        {
            ArgumentException.ThrowIfNullOrEmpty(directory);
            HArnessRuntime.EnsureInitialized();
            Directory.CreateDirectory(directory);
            var sd = encoder.state_dict();
            SafeTensors.Save(Path.Combine(directory, WeightsFileName), sd,
                new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "HArnESS" });
            AtomicFile.WriteAllText(Path.Combine(directory, ConfigFileName), HfConfigJson.ToJson(encoder.Config));
        }
    }
}
