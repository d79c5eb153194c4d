using System.Text.Json;
using System.Text.Json.Serialization;

namespace HArnESS.Inference;

/// <summary>The JSON sidecar HArnESS.Export writes beside a model (<c>model.json</c> for <c>model.onnx</c>):
/// what the inputs and outputs mean. Schema <c>format = "harness-onnx"</c>, <c>formatVersion = 1</c>.</summary>
public sealed record SpeechModelInfo
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Always "harness-onnx".</summary>
    public string Format { get; init; } = "";

    /// <summary>Schema version (1).</summary>
    public int FormatVersion { get; init; }

    /// <summary>Sample rate the model expects, Hz.</summary>
    public int SampleRate { get; init; }

    /// <summary>"waveforms" (raw samples; inputs <c>waveforms</c>, <c>lengths</c>) or "features" (fbank frames).</summary>
    public string Input { get; init; } = "";

    /// <summary>Feature width for "features" models; 0 otherwise.</summary>
    public int FeatureDim { get; init; }

    /// <summary>Shortest input (samples) that yields one output frame.</summary>
    public long MinSamples { get; init; }

    /// <summary>Width of the hidden states.</summary>
    public int HiddenSize { get; init; }

    /// <summary>Hidden-state outputs and the layer each one is.</summary>
    public IReadOnlyList<HiddenStateInfo> HiddenStates { get; init; } = [];

    /// <summary>Output holding valid frames per utterance.</summary>
    public string FrameLengthsOutput { get; init; } = "frame_lengths";

    /// <summary>Output frames per second.</summary>
    public double FrameRateHz { get; init; }

    /// <summary>"None" or "Int8Dynamic".</summary>
    public string Quantization { get; init; } = "None";

    /// <summary>Task heads.</summary>
    public IReadOnlyList<HeadInfo> Heads { get; init; } = [];

    /// <summary>Reads and checks a sidecar.</summary>
    /// <exception cref="HArnessInferenceFormatException">The file is missing, not JSON, or not this schema.</exception>
    public static SpeechModelInfo Load(string path)
    {
        SpeechModelInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<SpeechModelInfo>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HArnessInferenceFormatException($"Cannot read the model sidecar '{path}' (written beside the .onnx by HArnESS.Export): {e.Message}", path, e);
        }
        catch (JsonException e)
        {
            throw new HArnessInferenceFormatException($"The model sidecar '{path}' is not valid JSON at {e.Path}: {e.Message}", path, e);
        }
        if (info is null || info.Format != "harness-onnx")
            throw new HArnessInferenceFormatException($"'{path}' is not a HArnESS model sidecar: format is '{info?.Format}', expected 'harness-onnx'.", path);
        if (info.FormatVersion != 1)
            throw new HArnessInferenceFormatException($"'{path}' has formatVersion {info.FormatVersion}; this package reads version 1.", path);
        if (info.SampleRate <= 0)
            throw new HArnessInferenceFormatException($"'{path}': sampleRate is {info.SampleRate}; expected a positive rate.", path);
        if (info.Input is not ("waveforms" or "features"))
            throw new HArnessInferenceFormatException($"'{path}': input is '{info.Input}'; expected 'waveforms' or 'features'.", path);
        foreach (var h in info.Heads)
            if (h.Kind is not ("Ctc" or "Classification" or "SpeakerEmbedding"))
                throw new HArnessInferenceFormatException($"'{path}': head '{h.Output}' has kind '{h.Kind}'; expected Ctc, Classification or SpeakerEmbedding.", path);
        return info;
    }
}

/// <summary>One hidden-state output.</summary>
/// <param name="Output">Graph output name.</param>
/// <param name="Layer">0 = input to layer 1, i = output of layer i.</param>
public sealed record HiddenStateInfo(string Output, int Layer);

/// <summary>One task head.</summary>
public sealed record HeadInfo
{
    /// <summary>"Ctc", "Classification" or "SpeakerEmbedding".</summary>
    public string Kind { get; init; } = "";

    /// <summary>Graph output name.</summary>
    public string Output { get; init; } = "";

    /// <summary>Hidden state the head reads.</summary>
    public int Layer { get; init; }

    /// <summary>Output width (vocabulary, classes or embedding dim).</summary>
    public int Size { get; init; }

    /// <summary>CTC tokens or class names by index, or null.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>CTC blank index.</summary>
    public int? BlankIndex { get; init; }

    /// <summary>CTC token printed as a space.</summary>
    public string? WordDelimiter { get; init; }
}
