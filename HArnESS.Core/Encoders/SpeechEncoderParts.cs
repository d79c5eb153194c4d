using HArnESS.Modules;
using Parameter = TorchSharp.Modules.Parameter;

namespace HArnESS.Encoders;

/// <summary>The finished parts a <see cref="SpeechEncoder"/> is composed of (as torchaudio's
/// <c>Wav2Vec2Model(feature_extractor, encoder, aux)</c>): a front-end module, the feature projection, the
/// transformer with its positional embedding, and the optional <c>masked_spec_embed</c>.
/// <see cref="SpeechEncoderFactory.CreateParts"/> builds them from a config; a caller may build its own (e.g. with
/// pretrained parts) as long as they fit <see cref="Config"/>.</summary>
/// <param name="Config">The config the parts realise (kept by the encoder, written when it is saved).</param>
/// <param name="FrontEnd">The front-end; must be a TorchSharp module (it is registered as
/// <see cref="FrontEndConfig.ModuleName"/>).</param>
/// <param name="Projection">Front-end dim → model width.</param>
/// <param name="Encoder">Positional embedding and transformer layers.</param>
/// <param name="MaskEmbedding"><c>masked_spec_embed</c> <c>[HiddenSize]</c>, or null when the config has no masking.</param>
public sealed record SpeechEncoderParts(
    SpeechEncoderConfig Config,
    IFrontEnd FrontEnd,
    FeatureProjection Projection,
    TransformerEncoder Encoder,
    Parameter? MaskEmbedding);
