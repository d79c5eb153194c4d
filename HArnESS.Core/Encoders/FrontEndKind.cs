using System.Text.Json.Serialization;

namespace HArnESS.Encoders;

/// <summary>What turns waveforms into frame features before the feature projection.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FrontEndKind>))]
public enum FrontEndKind
{
    /// <summary>The wav2vec2 convolution stack on raw samples (<c>feature_extractor.*</c>).</summary>
    Cnn,

    /// <summary>Log-Mel filter banks, frame stacking and a linear projection (<c>fbank_frontend.*</c>).</summary>
    Fbank,
}
