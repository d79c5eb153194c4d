using HArnESS.Downstream.Text;

namespace HArnESS.Downstream.Metrics;

/// <summary>Word and character error rates over a corpus (Levenshtein alignment per utterance, counts summed, as
/// jiwer's <c>wer</c>/<c>cer</c> and sclite compute them). Apply the same text normalisation to references and
/// hypotheses before calling (see <see cref="Text.TextNormalizer"/>, or pass <see cref="Text.TextNormalizationOptions"/> to the overloads that take them).</summary>
public static class ErrorRates
{
    /// <summary>Word error rate: tokens are the white-space separated words.</summary>
    /// <param name="references">Reference transcripts.</param>
    /// <param name="hypotheses">Hypotheses, one per reference, same order.</param>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, or every reference is empty (N = 0).</exception>
    public static ErrorRate Word(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses) =>
        Compute(references, hypotheses, Words);

    /// <summary>Character error rate: tokens are Unicode code points (a combining mark counts as its own
    /// character). With <paramref name="includeSpaces"/> (the default, as jiwer's <c>cer</c>) the single spaces
    /// between words count as characters; runs of white space collapse to one space and the ends are trimmed.</summary>
    /// <param name="references">Reference transcripts.</param>
    /// <param name="hypotheses">Hypotheses, one per reference, same order.</param>
    /// <param name="includeSpaces">Count word-separating spaces as characters.</param>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, or every reference is empty (N = 0).</exception>
    public static ErrorRate Character(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, bool includeSpaces = true) =>
        Compute(references, hypotheses, s => Characters(s, includeSpaces));

    /// <summary>Word error rate after normalising references and hypotheses with the same options.</summary>
    /// <param name="references">Reference transcripts.</param>
    /// <param name="hypotheses">Hypotheses, one per reference, same order.</param>
    /// <param name="normalization">Applied identically to both sides.</param>
    /// <exception cref="ArgumentException">As <see cref="Word(IReadOnlyList{string}, IReadOnlyList{string})"/>.</exception>
    public static ErrorRate Word(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, TextNormalizationOptions normalization) =>
        Word(Normalize(references, normalization), Normalize(hypotheses, normalization));

    /// <summary>Character error rate after normalising references and hypotheses with the same options.</summary>
    /// <param name="references">Reference transcripts.</param>
    /// <param name="hypotheses">Hypotheses, one per reference, same order.</param>
    /// <param name="normalization">Applied identically to both sides.</param>
    /// <param name="includeSpaces">Count word-separating spaces as characters.</param>
    /// <exception cref="ArgumentException">As <see cref="Character(IReadOnlyList{string}, IReadOnlyList{string}, bool)"/>.</exception>
    public static ErrorRate Character(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, TextNormalizationOptions normalization,
        bool includeSpaces = true) =>
        Character(Normalize(references, normalization), Normalize(hypotheses, normalization), includeSpaces);

    private static string[] Normalize(IReadOnlyList<string> texts, TextNormalizationOptions normalization)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(normalization);
        return texts.Select(t => t is null ? null! : TextNormalizer.Normalize(t, normalization)).ToArray();
    }

    /// <summary>The words of a transcript (split on any white space).</summary>
    public static string[] Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The characters (code points, as strings) of a transcript, with or without single spaces between words.</summary>
    public static string[] Characters(string text, bool includeSpaces = true)
    {
        var joined = string.Join(includeSpaces ? " " : "", Words(text));
        var list = new List<string>(joined.Length);
        foreach (var r in joined.EnumerateRunes()) list.Add(r.ToString());
        return list.ToArray();
    }

    private static ErrorRate Compute(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, Func<string, string[]> tokens)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(hypotheses);
        if (references.Count == 0)
            throw new ArgumentException("No utterances: an error rate needs at least one reference.", nameof(references));
        if (references.Count != hypotheses.Count)
            throw new ArgumentException($"Got {references.Count} references but {hypotheses.Count} hypotheses; they must pair up.", nameof(hypotheses));
        var total = default(EditCounts);
        for (var i = 0; i < references.Count; i++)
        {
            var r = references[i] ?? throw new ArgumentException($"Reference {i} is null.", nameof(references));
            var h = hypotheses[i] ?? throw new ArgumentException($"Hypothesis {i} is null.", nameof(hypotheses));
            total += EditCounts.Align(tokens(r), tokens(h));
        }
        if (total.ReferenceLength == 0)
            throw new ArgumentException("Every reference is empty: the error rate (edits / reference tokens) is undefined.", nameof(references));
        return new ErrorRate(total, references.Count);
    }
}
