using System.Text.Json.Serialization;

namespace HArnESS.Export;

/// <summary>What a task head on top of the encoder computes, and so how HArnESS.Inference decodes its output.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OnnxHeadKind>))]
public enum OnnxHeadKind
{
    /// <summary>Per-frame Linear to vocabulary logits <c>[B, T, V]</c>; decoded by greedy CTC (collapse repeats, drop blanks).</summary>
    Ctc,

    /// <summary>Mean over valid frames, then Linear to class logits <c>[B, C]</c>; decoded as softmax scores and the top label.</summary>
    Classification,

    /// <summary>Mean over valid frames, then an optional Linear: an utterance embedding <c>[B, E]</c> (compare by cosine).</summary>
    SpeakerEmbedding,
}
