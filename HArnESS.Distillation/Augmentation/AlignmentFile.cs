using System.Globalization;

namespace HArnESS.Distillation.Augmentation;

/// <summary>Reads segment alignments in HArnESS's plain text format, one segment a line:
/// <code>utt start_seconds end_seconds label</code>
/// Fields are separated by spaces or tabs; the label is one token (no spaces). Blank lines and lines starting with
/// <c>#</c> are skipped. Times are invariant-culture decimal numbers, <c>0 ≤ start &lt; end</c>. An utterance's lines
/// need not be adjacent, but its segments must not overlap. Gaps between segments are allowed (the shuffle keeps
/// them as segments of their own).</summary>
public static class AlignmentFile
{
    /// <summary>Longest line accepted, in characters.</summary>
    public const int MaxLineLength = 4096;

    /// <summary>Reads a file.</summary>
    /// <param name="path">The alignment file.</param>
    /// <returns>Per utterance id, its segments sorted by start time.</returns>
    /// <exception cref="HArnessDataException">The file cannot be read.</exception>
    /// <exception cref="HArnessFormatException">A line is malformed (the message names the file and the line number).</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<AlignedSegment>> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var reader = new StreamReader(path);
            return Parse(reader, path);
        }
        catch (IOException ex)
        {
            throw new HArnessDataException($"Cannot read the alignment file '{path}': {ex.Message}", path, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new HArnessDataException($"Cannot read the alignment file '{path}': {ex.Message}", path, ex);
        }
    }

    /// <summary>Parses alignment text.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="sourceName">The file name used in messages.</param>
    /// <returns>Per utterance id, its segments sorted by start time.</returns>
    /// <exception cref="HArnessFormatException">A line is malformed (the message names the source and the line number).</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<AlignedSegment>> Parse(TextReader reader, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(sourceName);
        var byUtt = new Dictionary<string, List<(AlignedSegment Seg, int Line)>>(StringComparer.Ordinal);
        var lineNo = 0;
        while (ReadLine(reader, out var tooLong) is { } line)
        {
            lineNo++;
            if (tooLong)
                throw Error(sourceName, lineNo, $"the line has more than the {MaxLineLength} characters allowed (is this an alignment file?)");
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#') continue;
            var f = trimmed.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 4)
                throw Error(sourceName, lineNo, $"expected 4 fields 'utt start_seconds end_seconds label', found {f.Length}");
            var start = Time(f[1], "start_seconds", sourceName, lineNo);
            var end = Time(f[2], "end_seconds", sourceName, lineNo);
            if (!(end > start))
                throw Error(sourceName, lineNo, $"end_seconds {f[2]} must be greater than start_seconds {f[1]}");
            if (!byUtt.TryGetValue(f[0], out var list)) byUtt[f[0]] = list = [];
            list.Add((new AlignedSegment(start, end, f[3]), lineNo));
        }
        var result = new Dictionary<string, IReadOnlyList<AlignedSegment>>(StringComparer.Ordinal);
        foreach (var (utt, list) in byUtt)
        {
            var sorted = list.OrderBy(s => s.Seg.StartSeconds).ThenBy(s => s.Line).ToArray();
            for (var i = 1; i < sorted.Length; i++)
                if (sorted[i].Seg.StartSeconds < sorted[i - 1].Seg.EndSeconds)
                {
                    var (a, b) = sorted[i].Line > sorted[i - 1].Line ? (sorted[i - 1], sorted[i]) : (sorted[i], sorted[i - 1]);
                    throw Error(sourceName, b.Line,
                        $"segment {b.Seg.StartSeconds.ToString(CultureInfo.InvariantCulture)}–{b.Seg.EndSeconds.ToString(CultureInfo.InvariantCulture)} s of " +
                        $"utterance '{utt}' overlaps the one on line {a.Line}");
                }
            result[utt] = sorted.Select(s => s.Seg).ToArray();
        }
        return result;
    }

    /// <summary>Reads one line without ever holding more than <see cref="MaxLineLength"/> + 1 characters of it.</summary>
    private static string? ReadLine(TextReader reader, out bool tooLong)
    {
        tooLong = false;
        var sb = new System.Text.StringBuilder();
        int c;
        var any = false;
        while ((c = reader.Read()) >= 0)
        {
            any = true;
            if (c == '\n') break;
            if (c == '\r')
            {
                if (reader.Peek() == '\n') reader.Read();
                break;
            }
            if (sb.Length >= MaxLineLength)
            {
                tooLong = true;
                return sb.ToString();
            }
            sb.Append((char)c);
        }
        return any ? sb.ToString() : null;
    }

    private static double Time(string text, string field, string source, int line)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw Error(source, line, $"{field} '{text}' is not a number");
        if (v < 0) throw Error(source, line, $"{field} {text} is negative");
        return v;
    }

    private static HArnessFormatException Error(string source, int line, string what) =>
        new($"Alignment file '{source}', line {line}: {what}.", source);
}
