using HArnESS.Serialization;
using System.Globalization;
using System.Text;

namespace HArnESS.Data;

/// <summary>
/// A label file parallel to a <see cref="Manifest"/>: line <c>i</c> labels manifest entry <c>i</c>. Reads fairseq's
/// <c>.km</c> unit labels, <c>.ltr</c> letter and <c>.wrd</c> word transcripts, and one-class-per-line files
/// (<c>.emo</c>, <c>.dia</c>, <c>.spk</c>, <c>.kws</c>, …).
/// </summary>
public sealed class LabelFile
{
    private readonly string[] _lines;
    private readonly int[][]? _units;
    private readonly int[]? _classIds;

    private LabelFile(string path, string name, LabelKind kind, string[] lines)
    {
        Path = path;
        Name = name;
        Kind = kind;
        _lines = lines;
        if (kind == LabelKind.Units)
        {
            _units = new int[lines.Length][];
            for (var i = 0; i < lines.Length; i++) _units[i] = ParseUnits(lines[i], path, i + 1);
        }
        if (kind == LabelKind.Class)
        {
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length == 0 || lines[i].AsSpan().ContainsAny(' ', '\t'))
                    throw new HArnessFormatException(
                        $"Label file '{path}' line {i + 1}: expected one class name (no spaces), found '{lines[i]}'.", path);
            }
            Classes = lines.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var ids = Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
            _classIds = lines.Select(l => ids[l]).ToArray();
        }
    }

    /// <summary>Absolute path of the file.</summary>
    public string Path { get; }

    /// <summary>Name of the label set: the extension without the dot (<c>ltr</c>, <c>km</c>, <c>emo</c>, …).</summary>
    public string Name { get; }

    /// <summary>What the lines hold.</summary>
    public LabelKind Kind { get; }

    /// <summary>Number of lines (= manifest entries).</summary>
    public int Count => _lines.Length;

    /// <summary>The raw lines, without line breaks.</summary>
    public IReadOnlyList<string> Lines => _lines;

    /// <summary>The raw line of entry <paramref name="index"/>.</summary>
    public string this[int index] => _lines[index];

    /// <summary>For <see cref="LabelKind.Class"/>: the distinct class names, sorted ordinally (class id = position); empty otherwise.</summary>
    public IReadOnlyList<string> Classes { get; } = [];

    /// <summary>Class id (index into <see cref="Classes"/>) of entry <paramref name="index"/>.</summary>
    /// <exception cref="HArnessConfigException">The file is not a class label file.</exception>
    public int ClassId(int index) =>
        _classIds is null ? throw WrongKind(LabelKind.Class) : _classIds[index];

    /// <summary>Unit labels of entry <paramref name="index"/> (one per frame).</summary>
    /// <exception cref="HArnessConfigException">The file is not a <c>.km</c> unit file.</exception>
    public IReadOnlyList<int> Units(int index) =>
        _units is null ? throw WrongKind(LabelKind.Units) : _units[index];

    /// <summary>The space-separated tokens of entry <paramref name="index"/>: letters and <c>|</c> for <c>.ltr</c>, words for <c>.wrd</c>.</summary>
    public string[] Tokens(int index) => _lines[index].Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The transcript of entry <paramref name="index"/> as plain text: words for <c>.wrd</c>, letters joined back into words for <c>.ltr</c>.</summary>
    public string Text(int index) => Kind switch
    {
        LabelKind.Letters => string.Join(' ', string.Concat(Tokens(index)).Split('|', StringSplitOptions.RemoveEmptyEntries)),
        _ => string.Join(' ', Tokens(index)),
    };

    /// <summary>Reads a label file; the kind comes from the extension (<c>.km</c> units, <c>.ltr</c> letters, <c>.wrd</c> words, anything else classes).</summary>
    /// <param name="path">The file.</param>
    /// <param name="manifest">When given, the number of lines must equal its number of entries.</param>
    /// <param name="kind">Overrides the kind chosen from the extension.</param>
    /// <exception cref="HArnessDataException">The file cannot be read, or its line count differs from the manifest's entry count.</exception>
    /// <exception cref="HArnessFormatException">A line is malformed (a non-integer unit, a class name with spaces); the message names file and line.</exception>
    public static LabelFile Load(string path, Manifest? manifest = null, LabelKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(full, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HArnessDataException($"Cannot read label file '{full}': {ex.Message}", full, ex);
        }
        for (var i = 0; i < lines.Length; i++) lines[i] = lines[i].TrimEnd('\r', ' ', '\t');
        var name = System.IO.Path.GetExtension(full).TrimStart('.');
        var file = new LabelFile(full, name, kind ?? KindOf(name), lines);
        if (manifest is not null) file.EnsureAligned(manifest);
        return file;
    }

    /// <summary>Loads the label file <c>&lt;manifest name&gt;.&lt;name&gt;</c> beside a loaded manifest (e.g. <c>train.tsv</c> → <c>train.ltr</c>).</summary>
    /// <param name="manifest">A manifest loaded from disk (<see cref="Manifest.SourcePath"/> set).</param>
    /// <param name="name">Label set name, the extension without the dot (<c>ltr</c>, <c>km</c>, <c>emo</c>…).</param>
    /// <param name="kind">Overrides the kind chosen from the extension.</param>
    /// <exception cref="HArnessConfigException">The manifest was not loaded from a file.</exception>
    /// <exception cref="HArnessDataException">The label file is missing or its line count differs from the manifest's.</exception>
    public static LabelFile LoadBeside(Manifest manifest, string name, LabelKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (manifest.SourcePath is null)
            throw new HArnessConfigException("The manifest was built in memory; give the label file's path instead.", nameof(manifest));
        return Load(System.IO.Path.ChangeExtension(manifest.SourcePath, "." + name.TrimStart('.')), manifest, kind);
    }

    /// <summary>Checks that there is one line per manifest entry.</summary>
    /// <exception cref="HArnessDataException">The counts differ; the message names both files and both counts.</exception>
    public void EnsureAligned(Manifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Count != Count)
            throw new HArnessDataException(
                $"Label file '{Path}' has {Count} line(s) but manifest '{manifest.SourcePath ?? "(in memory)"}' has {manifest.Count} entries; " +
                "a label file needs exactly one line per manifest entry, in the same order.", Path);
    }

    /// <summary>Saves lines as a label file (one per entry, <c>\n</c> line ends, UTF-8 without BOM).</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="lines">One line per manifest entry.</param>
    /// <exception cref="HArnessConfigException">A line contains a line break.</exception>
    public static void Save(string path, IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(lines);
        var sb = new StringBuilder();
        var n = 0;
        foreach (var line in lines)
        {
            if (line.AsSpan().IndexOfAny('\n', '\r') >= 0)
                throw new HArnessConfigException($"Label line {n + 1} for '{path}' contains a line break.", nameof(lines));
            sb.Append(line).Append('\n');
            n++;
        }
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        AtomicFile.WriteAllText(full, sb.ToString());
    }

    /// <summary>Letters in fairseq's <c>.ltr</c> form for a transcript: <c>"HI YOU"</c> → <c>"H I | Y O U |"</c>.</summary>
    /// <param name="text">Words separated by white space.</param>
    public static string ToLetters(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder();
        foreach (var word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            // One token per code point, as fairseq's libri_labels.py (list(word)) makes them.
            foreach (var rune in word.EnumerateRunes()) sb.Append(rune.ToString()).Append(' ');
            sb.Append("| ");
        }
        return sb.ToString().TrimEnd();
    }

    private static LabelKind KindOf(string extension) => extension.ToLowerInvariant() switch
    {
        "km" => LabelKind.Units,
        "ltr" => LabelKind.Letters,
        "wrd" => LabelKind.Words,
        _ => LabelKind.Class,
    };

    private static int[] ParseUnits(string line, string path, int lineNumber)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var units = new int[parts.Length];
        for (var j = 0; j < parts.Length; j++)
        {
            if (!int.TryParse(parts[j], NumberStyles.None, CultureInfo.InvariantCulture, out units[j]))
                throw new HArnessFormatException(
                    $"Label file '{path}' line {lineNumber}: unit {j + 1} is '{parts[j]}', expected a non-negative integer.", path);
        }
        return units;
    }

    private HArnessConfigException WrongKind(LabelKind wanted) =>
        new($"Label file '{Path}' holds {Kind} labels, not {wanted} labels.", nameof(Kind));
}
