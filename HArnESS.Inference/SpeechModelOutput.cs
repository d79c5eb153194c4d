namespace HArnESS.Inference;

/// <summary>The result of one <see cref="SpeechModel"/> run over a batch.</summary>
public sealed class SpeechModelOutput
{
    internal SpeechModelOutput(IReadOnlyDictionary<int, FrameTensor> hidden, long[] frameLengths, IReadOnlyList<HeadOutput> heads)
    {
        HiddenStates = hidden;
        FrameLengths = frameLengths;
        Heads = heads;
    }

    /// <summary>Hidden states by layer index (0 = input to layer 1), each <c>[batch, frames, hidden]</c>.</summary>
    public IReadOnlyDictionary<int, FrameTensor> HiddenStates { get; }

    /// <summary>Valid output frames per utterance.</summary>
    public IReadOnlyList<long> FrameLengths { get; }

    /// <summary>Every task head's output, in sidecar order.</summary>
    public IReadOnlyList<HeadOutput> Heads { get; }

    /// <summary>The first CTC head's transcripts, or null when the model has none.</summary>
    public IReadOnlyList<string>? Transcripts => Heads.FirstOrDefault(h => h.Transcripts is not null)?.Transcripts;

    /// <summary>The first classification head's results, or null when the model has none.</summary>
    public IReadOnlyList<ClassificationResult>? Classifications => Heads.FirstOrDefault(h => h.Classifications is not null)?.Classifications;

    /// <summary>The first speaker-embedding head's embeddings, or null when the model has none.</summary>
    public IReadOnlyList<float[]>? Embeddings => Heads.FirstOrDefault(h => h.Embeddings is not null)?.Embeddings;
}
