using HArnESS.Checkpoints;
using HArnESS.Encoders;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Builds, loads and saves <see cref="SpeechEncoder"/>s for code that takes its dependencies from a container: the
/// runtime is started (with the registered <see cref="Runtime.RuntimeOptions"/>) before the first encoder is made,
/// and loads and saves log through the container's logger factory. Registered by <c>AddHArness</c>; code without a
/// container uses <see cref="SpeechEncoderFactory"/> and <c>SpeechEncoder.Load</c> directly.
/// </summary>
public interface ISpeechEncoderFactory
{
    /// <summary>An encoder with fresh weights for <paramref name="config"/>.</summary>
    /// <exception cref="HArnessValidationException">The config is invalid (every problem named).</exception>
    SpeechEncoder Create(SpeechEncoderConfig config);

    /// <summary>An encoder with fresh weights for a named preset (<see cref="EncoderPresets.Get"/>: "hubert-base", "tiny-post-ln", …).</summary>
    /// <exception cref="HArnessConfigException">No preset has that name (the message lists the known ones).</exception>
    SpeechEncoder CreatePreset(string name);

    /// <summary>Loads an encoder checkpoint (any form <c>SpeechEncoder.Load</c> reads), in eval mode, logging what was
    /// loaded; options that leave <see cref="CheckpointLoadOptions.LoggerFactory"/> at its null default log through the
    /// container's logger factory.</summary>
    /// <exception cref="HArnessCheckpointException">The checkpoint does not fit or cannot be read safely (named).</exception>
    SpeechEncoder Load(string path, CheckpointLoadOptions? options = null);

    /// <summary>Saves an encoder as an HF-style folder (<c>model.safetensors</c> + <c>config.json</c>) and logs it.</summary>
    void Save(SpeechEncoder encoder, string directory);
}
