using System.Globalization;
using System.Text;
using HArnESS.Data;
using HArnESS.Serialization;

namespace HArnESS.Downstream.Text;

/// <summary>
/// A CTC character vocabulary in fairseq's letter-dictionary style: id 0 is the CTC blank, id 1 the word boundary
/// <c>|</c> (written after every word, as in <c>.ltr</c> files), id 2 the unknown symbol when
/// <see cref="CharacterVocabularyOptions.MapUnknownCharacters"/> is on, then every character (Unicode code point:
/// Arabic script, Latin letters, digits, …) seen in the training transcripts, in ordinal order so that the same
/// transcripts always give the same ids.
/// </summary>
public sealed class CharacterVocabulary
{
    /// <summary>The CTC blank token (id 0).</summary>
    public const string BlankSymbol = "<blank>";

    /// <summary>The word-boundary token (id 1), as fairseq's letter dictionary.</summary>
    public const string WordBoundary = "|";

    /// <summary>The unknown-character token (id 2 when enabled).</summary>
    public const string UnknownSymbol = "<unk>";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private CharacterVocabulary(string[] tokens, CharacterVocabularyOptions options)
    {
        _tokens = tokens;
        _ids = tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i, StringComparer.Ordinal);
        Options = options;
    }

    /// <summary>The options it was built with (normalisation, unknown handling).</summary>
    public CharacterVocabularyOptions Options { get; }

    /// <summary>Number of tokens, blank included: the CTC head's output size.</summary>
    public int Count => _tokens.Length;

    /// <summary>The tokens; id = position.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>Id of the blank (always 0).</summary>
    public int BlankId => 0;

    /// <summary>Id of <see cref="WordBoundary"/> (always 1).</summary>
    public int WordBoundaryId => 1;

    /// <summary>Id of <see cref="UnknownSymbol"/>, or -1 when unknown characters are errors.</summary>
    public int UnknownId => Options.MapUnknownCharacters ? 2 : -1;

    /// <summary>Builds the vocabulary from transcripts (words separated by white space), normalised first.</summary>
    /// <param name="transcripts">Training transcripts.</param>
    /// <param name="options">Build options; null = defaults.</param>
    /// <exception cref="HArnessDataException">There is no character at all in the transcripts.</exception>
    public static CharacterVocabulary Build(IEnumerable<string> transcripts, CharacterVocabularyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transcripts);
        options ??= new CharacterVocabularyOptions();
        var chars = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in transcripts)
            foreach (var r in TextNormalizer.Normalize(t ?? "", options.Normalization).EnumerateRunes())
                if (!Rune.IsWhiteSpace(r) && r.Value != '|') chars.Add(r.ToString());
        if (chars.Count == 0) throw new HArnessDataException("The transcripts hold no character to build a vocabulary from.");
        var tokens = new List<string> { BlankSymbol, WordBoundary };
        if (options.MapUnknownCharacters) tokens.Add(UnknownSymbol);
        tokens.AddRange(chars.Order(StringComparer.Ordinal));
        return new CharacterVocabulary(tokens.ToArray(), options);
    }

    /// <summary>Builds the vocabulary from a <c>.wrd</c> or <c>.ltr</c> label file's transcripts.</summary>
    /// <param name="transcripts">A words or letters label file.</param>
    /// <param name="options">Build options; null = defaults.</param>
    /// <exception cref="HArnessDataException">An entry's transcript is empty (the message names the file and line).</exception>
    public static CharacterVocabulary Build(LabelFile transcripts, CharacterVocabularyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transcripts);
        return Build(TranscriptsOf(transcripts), options);
    }

    /// <summary>The plain-text transcripts of a <c>.wrd</c>/<c>.ltr</c> label file, checked non-empty.</summary>
    /// <param name="transcripts">A words or letters label file.</param>
    /// <exception cref="HArnessDataException">An entry's transcript is empty; the message names the file and line.</exception>
    public static IReadOnlyList<string> TranscriptsOf(LabelFile transcripts)
    {
        ArgumentNullException.ThrowIfNull(transcripts);
        var list = new string[transcripts.Count];
        for (var i = 0; i < transcripts.Count; i++)
        {
            list[i] = transcripts.Text(i);
            if (string.IsNullOrWhiteSpace(list[i]))
                throw new HArnessDataException($"Transcript file '{transcripts.Path}' line {i + 1}: the transcript is empty; CTC needs at least one token per utterance.", transcripts.Path);
        }
        return list;
    }

    /// <summary>Id of a token, or -1 when the vocabulary does not hold it.</summary>
    public int IdOf(string token) => _ids.TryGetValue(token, out var id) ? id : -1;

    /// <summary>Encodes a transcript: normalised, each word's characters followed by <c>|</c>.</summary>
    /// <param name="text">The transcript.</param>
    /// <param name="utterance">Name of the utterance for error messages (a path, an id, "file:line").</param>
    /// <exception cref="HArnessDataException">The transcript is empty after normalisation, or holds a character
    /// outside the vocabulary while unknown characters are errors; the message names the character (with its code
    /// point) and <paramref name="utterance"/>.</exception>
    public int[] Encode(string text, string? utterance = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var norm = TextNormalizer.Normalize(text, Options.Normalization);
        if (norm.Length == 0)
            throw new HArnessDataException($"Utterance {utterance ?? "(unnamed)"}: the transcript is empty after normalisation ('{text}').");
        var ids = new List<int>(norm.Length + 1);
        foreach (var word in norm.Split(' '))
        {
            foreach (var r in word.EnumerateRunes())
            {
                var s = r.ToString();
                // A single code point never equals "<blank>" or "<unk>"; "|" maps to the word boundary.
                if (_ids.TryGetValue(s, out var id)) ids.Add(id);
                else if (Options.MapUnknownCharacters) ids.Add(UnknownId);
                else
                    throw new HArnessDataException(
                        $"Utterance {utterance ?? "(unnamed)"}: character '{s}' (U+{r.Value:X4}) in '{norm}' is not in the vocabulary " +
                        $"({Count} tokens); build the vocabulary from these transcripts or set {nameof(CharacterVocabularyOptions.MapUnknownCharacters)}.");
            }
            ids.Add(WordBoundaryId);
        }
        return ids.ToArray();
    }

    /// <summary>Decodes token ids into text: blanks dropped, <c>|</c> splits words, words joined by one space.
    /// Ids are taken as given (collapse CTC repeats first, e.g. with <see cref="Decoding.CtcGreedyDecoder"/>).</summary>
    /// <param name="ids">Token ids.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_tokens.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary [0, {_tokens.Length}).");
            if (id == BlankId) continue;
            sb.Append(id == WordBoundaryId ? " " : _tokens[id]);
        }
        return string.Join(' ', sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Writes the vocabulary, one token per line in id order (UTF-8), with a first line recording whether
    /// unknown characters are mapped; normalisation options are not stored (keep them with the model's options).</summary>
    /// <param name="path">The file to write (atomically).</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var sb = new StringBuilder(Options.MapUnknownCharacters ? "#harness-vocab unk\n" : "#harness-vocab\n");
        foreach (var t in _tokens) sb.Append(t).Append('\n');
        AtomicFile.WriteAllText(Path.GetFullPath(path), sb.ToString());
    }

    /// <summary>Reads a vocabulary written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="normalization">Normalisation to use when encoding; null = defaults.</param>
    /// <exception cref="HArnessDataException">The file cannot be read.</exception>
    /// <exception cref="HArnessFormatException">The header, the fixed first tokens or a duplicate token is wrong; the message names the file and line.</exception>
    public static CharacterVocabulary Load(string path, TextNormalizationOptions? normalization = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        string[] lines;
        try { lines = File.ReadAllLines(full, Encoding.UTF8); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HArnessDataException($"Cannot read vocabulary '{full}': {ex.Message}", full, ex);
        }
        if (lines.Length == 0 || !lines[0].StartsWith("#harness-vocab", StringComparison.Ordinal))
            throw new HArnessFormatException($"Vocabulary '{full}' line 1: expected '#harness-vocab', found '{(lines.Length == 0 ? "" : lines[0])}'.", full);
        var unk = lines[0].Trim() == "#harness-vocab unk";
        var tokens = lines.Skip(1).Where(l => l.Length > 0).ToArray();
        string[] fixedTokens = unk ? [BlankSymbol, WordBoundary, UnknownSymbol] : [BlankSymbol, WordBoundary];
        for (var i = 0; i < fixedTokens.Length; i++)
            if (tokens.Length <= i || tokens[i] != fixedTokens[i])
                throw new HArnessFormatException($"Vocabulary '{full}' line {i + 2}: expected '{fixedTokens[i]}', found '{(tokens.Length > i ? tokens[i] : "end of file")}'.", full);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
            if (!seen.Add(tokens[i])) throw new HArnessFormatException($"Vocabulary '{full}' line {i + 2}: token '{tokens[i]}' appears twice.", full);
        return new CharacterVocabulary(tokens, new CharacterVocabularyOptions
        {
            MapUnknownCharacters = unk,
            Normalization = normalization ?? new TextNormalizationOptions(),
        });
    }
}
