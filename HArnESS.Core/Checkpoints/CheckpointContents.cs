using HArnESS.Encoders;
using static TorchSharp.torch;

namespace HArnESS.Checkpoints;

/// <summary>A speech-encoder checkpoint read into HArnESS names, with the config that describes it. Disposing it
/// disposes the tensors.</summary>
public sealed class CheckpointContents : IDisposable
{
    /// <summary>Creates the contents.</summary>
    public CheckpointContents(Dictionary<string, Tensor> stateDict, SpeechEncoderConfig config, CheckpointLayout layout,
        string weightsPath, string configSource, IReadOnlyList<string> ignoredKeys, IReadOnlyList<InferredConfigField>? inferred = null)
    {
        InferredFields = inferred ?? [];
        StateDict = stateDict;
        Config = config;
        Layout = layout;
        WeightsPath = weightsPath;
        ConfigSource = configSource;
        IgnoredKeys = ignoredKeys;
    }

    /// <summary>Tensors by HArnESS name (HF <c>Wav2Vec2Model</c> keys without prefix), on the CPU unless options said otherwise.</summary>
    public Dictionary<string, Tensor> StateDict { get; }

    /// <summary>The encoder config: from the options, a <c>config.json</c>, the fairseq <c>cfg</c>/<c>args</c>, or inferred from shapes.</summary>
    public SpeechEncoderConfig Config { get; }

    /// <summary>The key layout the file was in.</summary>
    public CheckpointLayout Layout { get; }

    /// <summary>The weights file (the first shard for sharded checkpoints).</summary>
    public string WeightsPath { get; }

    /// <summary>Where <see cref="Config"/> came from: "options", a config.json path, "fairseq cfg", or "inferred from tensor shapes".</summary>
    public string ConfigSource { get; }

    /// <summary>Config values chosen because the checkpoint did not state them (empty unless the config was inferred).</summary>
    public IReadOnlyList<InferredConfigField> InferredFields { get; }

    /// <summary>Checkpoint keys of heads an encoder does not use (original names).</summary>
    public IReadOnlyList<string> IgnoredKeys { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in StateDict.Values) t.Dispose();
        StateDict.Clear();
    }
}
