using HArnESS.Runtime;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace HArnESS.Encoders;

/// <summary>Builds a <see cref="SpeechEncoder"/>'s parts from a <see cref="SpeechEncoderConfig"/>: the front-end its
/// section creates (<see cref="Modules.FrontEndConfig.Create"/>), the feature projection, the transformer and the
/// mask embedding. Nothing here switches on the front-end's kind.</summary>
public static class SpeechEncoderFactory
{
    /// <summary>Validates the config, starts the runtime and builds fresh parts.</summary>
    /// <param name="config">The shape.</param>
    /// <exception cref="HArnessValidationException">The config is invalid (every problem named); nothing was allocated.</exception>
    public static SpeechEncoderParts CreateParts(SpeechEncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        HArnessRuntime.EnsureInitialized();
        var frontEnd = config.FrontEnd.Create();
        var projection = new Modules.FeatureProjection(config.FrontEndDim, config.HiddenSize, config.FeatureProjectionDropout, config.LayerNormEps);
        var encoder = new Modules.TransformerEncoder(config.HiddenSize, config.NumLayers, config.NumHeads, config.IntermediateSize,
            config.LayerNormFirst, config.PosConvKernel, config.PosConvGroups, config.HiddenDropout, config.AttentionDropout,
            config.ActivationDropout, config.LayerDrop, config.LayerNormEps);
        var mask = config.HasMaskEmbedding ? new Parameter(rand(config.HiddenSize)) : null; // HF: uniform_() in [0, 1)
        return new SpeechEncoderParts(config, frontEnd, projection, encoder, mask);
    }

    /// <summary>Builds an encoder with fresh weights (the same as <c>new SpeechEncoder(config)</c>).</summary>
    /// <exception cref="HArnessValidationException">The config is invalid (every problem named).</exception>
    public static SpeechEncoder Create(SpeechEncoderConfig config) => new(CreateParts(config));
}
