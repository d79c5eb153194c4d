using static TorchSharp.torch;

namespace HArnESS.Downstream.Decoding;

/// <summary>Best-path CTC decoding: the arg-max token per frame, repeats collapsed, blanks removed
/// ("a a - a b" → "a a b": a blank separates two equal labels).</summary>
public static class CtcGreedyDecoder
{
    /// <summary>Decodes one utterance.</summary>
    /// <param name="logProbs">Frame log-probabilities (or logits: only the arg-max matters), row-major <c>[frames, vocab]</c>.</param>
    /// <param name="vocab">Vocabulary size (columns).</param>
    /// <param name="blank">Id of the blank.</param>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="vocab"/>, or the blank is out of range.</exception>
    public static CtcHypothesis Decode(ReadOnlySpan<float> logProbs, int vocab, int blank = 0)
    {
        CtcInput.Check(logProbs.Length, vocab, blank);
        var frames = logProbs.Length / vocab;
        var tokens = new List<int>();
        var prev = -1;
        double logp = 0;
        for (var t = 0; t < frames; t++)
        {
            var row = logProbs.Slice(t * vocab, vocab);
            var best = 0;
            for (var v = 1; v < vocab; v++) if (row[v] > row[best]) best = v;
            logp += row[best];
            if (best != blank && best != prev) tokens.Add(best);
            prev = best;
        }
        return new CtcHypothesis(tokens, logp);
    }

    /// <summary>Decodes a batch.</summary>
    /// <param name="logProbs"><c>[batch, frames, vocab]</c> log-probabilities (any floating type, any device).</param>
    /// <param name="lengths">Valid frames per utterance <c>[batch]</c>, or null when all frames are valid.</param>
    /// <param name="blank">Id of the blank.</param>
    /// <exception cref="ArgumentException"><paramref name="logProbs"/> is not 3-D or <paramref name="lengths"/> does not match it.</exception>
    public static CtcHypothesis[] Decode(Tensor logProbs, Tensor? lengths = null, int blank = 0)
    {
        var (rows, vocab) = CtcInput.Rows(logProbs, lengths);
        return rows.Select(r => Decode(r, vocab, blank)).ToArray();
    }
}
