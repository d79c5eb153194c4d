using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace HArnESS.Export;

/// <summary>The JSON written beside every exported model (<c>model.json</c> for <c>model.onnx</c>): what the inputs
/// and outputs mean, the sample rate, and each head's labels. HArnESS.Inference reads the same schema
/// (<c>format = "harness-onnx"</c>, <c>formatVersion = 1</c>).</summary>
internal sealed record OnnxSidecar
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Format { get; init; } = "harness-onnx";
    public int FormatVersion { get; init; } = 1;
    public required int SampleRate { get; init; }
    public required string Input { get; init; }            // "waveforms" or "features"
    public int FeatureDim { get; init; }
    public required long MinSamples { get; init; }
    public required int HiddenSize { get; init; }
    public required IReadOnlyList<SidecarHiddenState> HiddenStates { get; init; }
    public string FrameLengthsOutput { get; init; } = "frame_lengths";
    public required double FrameRateHz { get; init; }
    public required string Quantization { get; init; }
    public required IReadOnlyList<SidecarHead> Heads { get; init; }
    public JsonNode? Encoder { get; init; }

    public static string SidecarPathFor(string modelPath) => Path.ChangeExtension(modelPath, ".json");
}

internal sealed record SidecarHiddenState(string Output, int Layer);

internal sealed record SidecarHead
{
    public required string Kind { get; init; }
    public required string Output { get; init; }
    public required int Layer { get; init; }
    public required int Size { get; init; }
    public IReadOnlyList<string>? Labels { get; init; }
    public int? BlankIndex { get; init; }
    public string? WordDelimiter { get; init; }
}
