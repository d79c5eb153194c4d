using System.Text.Json.Serialization;

namespace HArnESS.Modules;

/// <summary>Normalisation inside a convolutional waveform front-end (fairseq's <c>extractor_mode</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConvNormMode>))]
public enum ConvNormMode
{
    /// <summary>Group norm with one group per channel on the first convolution only (HuBERT/wav2vec2 base).
    /// It normalises over time, so padded samples influence it (as in fairseq/torchaudio).</summary>
    GroupNorm,

    /// <summary>Layer norm over channels after every convolution (large, XLS-R); frame-local, so padding-safe.</summary>
    LayerNorm,
}
