namespace HArnESS.Inference;

/// <summary>What one task head returned for the batch, decoded by kind: CTC heads fill <see cref="Transcripts"/>,
/// classification heads <see cref="Classifications"/>, speaker heads <see cref="Embeddings"/>.</summary>
public sealed class HeadOutput
{
    internal HeadOutput(HeadInfo info, float[] raw, int[] shape)
    {
        Info = info;
        Raw = raw;
        Shape = shape;
    }

    /// <summary>The head as described by the sidecar.</summary>
    public HeadInfo Info { get; }

    /// <summary>The raw output (CTC logits <c>[B, T, V]</c>, class logits <c>[B, C]</c>, embeddings <c>[B, E]</c>).</summary>
    public float[] Raw { get; }

    /// <summary>Shape of <see cref="Raw"/>.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Greedy CTC transcript per utterance, or null for other kinds.</summary>
    public IReadOnlyList<string>? Transcripts { get; internal init; }

    /// <summary>Top class and scores per utterance, or null for other kinds.</summary>
    public IReadOnlyList<ClassificationResult>? Classifications { get; internal init; }

    /// <summary>Embedding per utterance, or null for other kinds.</summary>
    public IReadOnlyList<float[]>? Embeddings { get; internal init; }
}
