using static TorchSharp.torch;

namespace HArnESS.Export;

/// <summary>A task head exported on top of one hidden state: a Linear (<see cref="Weight"/> <c>[out, in]</c>,
/// optional <see cref="Bias"/>), per frame for CTC or after masked mean pooling for utterance heads. The tensors are
/// read at export and not kept.</summary>
public sealed record OnnxHead
{
    /// <summary>What the head computes.</summary>
    public required OnnxHeadKind Kind { get; init; }

    /// <summary>Graph output name; default <c>ctc_logits</c>, <c>class_logits</c> or <c>speaker_embedding</c>.</summary>
    public string? OutputName { get; init; }

    /// <summary>Linear weight <c>[out, hidden]</c>; required except for <see cref="OnnxHeadKind.SpeakerEmbedding"/>
    /// (null = the pooled hidden state itself).</summary>
    public Tensor? Weight { get; init; }

    /// <summary>Linear bias <c>[out]</c>, or null.</summary>
    public Tensor? Bias { get; init; }

    /// <summary>Hidden-state index the head reads (0 = input to layer 1, n = output of layer n); null = the last layer.</summary>
    public int? Layer { get; init; }

    /// <summary>CTC: the token of each output index (characters; <see cref="WordDelimiter"/> becomes a space).
    /// Classification: the class names. Must match the output size when given.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>CTC blank index. Default 0.</summary>
    public int BlankIndex { get; init; }

    /// <summary>CTC token written as a space in transcripts (HF's <c>|</c>). Default "|".</summary>
    public string? WordDelimiter { get; init; } = "|";

    /// <summary>The output name this head gets.</summary>
    public string ResolvedOutputName => OutputName ?? Kind switch
    {
        OnnxHeadKind.Ctc => "ctc_logits",
        OnnxHeadKind.Classification => "class_logits",
        _ => "speaker_embedding",
    };
}
