using System.Text;

namespace HArnESS.Inference;

/// <summary>Greedy CTC decoding: the arg-max token of every valid frame, repeats collapsed, blanks dropped, tokens
/// joined (the word delimiter becomes a space; runs of spaces collapse; the ends are trimmed).</summary>
public static class CtcGreedyDecoder
{
    /// <summary>Token indices after collapsing repeats and dropping blanks.</summary>
    /// <param name="logits"><c>[frames, vocab]</c> row-major (at least <paramref name="frames"/>·<paramref name="vocab"/> values).</param>
    /// <param name="frames">Valid frames to decode.</param>
    /// <param name="vocab">Vocabulary size.</param>
    /// <param name="blank">Blank index.</param>
    /// <exception cref="ArgumentException">Sizes disagree.</exception>
    public static IReadOnlyList<int> DecodeIndices(ReadOnlySpan<float> logits, int frames, int vocab, int blank)
    {
        if (vocab <= 0 || frames < 0 || logits.Length < (long)frames * vocab)
            throw new ArgumentException($"Expected at least {frames}·{vocab} logits, got {logits.Length}.", nameof(logits));
        var tokens = new List<int>();
        var previous = -1;
        for (var t = 0; t < frames; t++)
        {
            var row = logits.Slice(t * vocab, vocab);
            var best = 0;
            for (var v = 1; v < vocab; v++)
                if (row[v] > row[best]) best = v;
            if (best != previous && best != blank) tokens.Add(best);
            previous = best;
        }
        return tokens;
    }

    /// <summary>The transcript of one utterance (see the type summary).</summary>
    /// <param name="logits"><c>[frames, vocab]</c>.</param>
    /// <param name="frames">Valid frames.</param>
    /// <param name="vocab">Vocabulary size.</param>
    /// <param name="labels">Token text by index; null writes indices separated by spaces.</param>
    /// <param name="blank">Blank index.</param>
    /// <param name="wordDelimiter">Token written as a space, or null.</param>
    public static string Decode(ReadOnlySpan<float> logits, int frames, int vocab, IReadOnlyList<string>? labels, int blank, string? wordDelimiter)
    {
        var tokens = DecodeIndices(logits, frames, vocab, blank);
        if (labels is null) return string.Join(' ', tokens);
        var sb = new StringBuilder();
        foreach (var i in tokens)
        {
            var s = labels[i] == wordDelimiter ? " " : labels[i];
            if (s == " " && (sb.Length == 0 || sb[^1] == ' ')) continue;
            sb.Append(s);
        }
        return sb.ToString().Trim();
    }
}
