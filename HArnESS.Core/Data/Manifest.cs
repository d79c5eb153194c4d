using HArnESS.Serialization;
using System.Globalization;
using System.Text;
using HArnESS.Audio;

namespace HArnESS.Data;

/// <summary>
/// A fairseq audio manifest: the first line is the root folder, every further line is
/// <c>relative/path.wav&lt;TAB&gt;num_samples</c>. Label files (<c>.ltr</c>, <c>.wrd</c>, <c>.km</c>, class labels) sit
/// beside it with one line per entry, in the same order (see <see cref="LabelFile"/>).
/// </summary>
/// <remarks>
/// fairseq writes an absolute root; a relative root (for instance <c>.</c>, as the demo corpus does so that it can be
/// moved) is resolved against the folder of the manifest file, never against the working directory.
/// </remarks>
public sealed class Manifest
{
    /// <summary>Creates a manifest in memory.</summary>
    /// <param name="root">Folder the entries are relative to; made absolute against the working directory.</param>
    /// <param name="entries">The entries, in order.</param>
    /// <param name="sourcePath">The manifest file this came from, if any (used in error messages).</param>
    /// <exception cref="HArnessConfigException">The root is empty, or an entry has an empty path or a negative size.</exception>
    public Manifest(string root, IEnumerable<ManifestEntry> entries, string? sourcePath = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(entries);
        if (string.IsNullOrWhiteSpace(root))
            throw new HArnessConfigException("The manifest root must be a folder path, got an empty string.", nameof(root));
        if (root.Contains('\0'))
            throw new HArnessConfigException("The manifest root contains a NUL character, which no path can hold.", nameof(root));
        Root = Path.GetFullPath(root);
        var list = entries.ToArray();
        long total = 0;
        for (var i = 0; i < list.Length; i++)
        {
            var e = list[i] ?? throw new HArnessConfigException($"Manifest entry {i} is null.", nameof(entries));
            if (string.IsNullOrWhiteSpace(e.RelativePath))
                throw new HArnessConfigException($"Manifest entry {i} has an empty path.", nameof(entries));
            if (e.RelativePath.Contains('\0'))
                throw new HArnessConfigException($"Manifest entry {i} has a path with a NUL character, which no path can hold.", nameof(entries));
            if (e.NumSamples < 0)
                throw new HArnessConfigException($"Manifest entry {i} ('{e.RelativePath}') has a negative size {e.NumSamples}.", nameof(entries));
            if (e.NumSamples > long.MaxValue - total)
                throw new HArnessConfigException($"Manifest entries up to {i} ('{e.RelativePath}') hold more than {long.MaxValue} samples in all.", nameof(entries));
            total += e.NumSamples;
        }
        Entries = list;
        TotalSamples = total;
        SourcePath = sourcePath is null ? null : Path.GetFullPath(sourcePath);
    }

    /// <summary>Absolute folder the entries are relative to.</summary>
    public string Root { get; }

    /// <summary>The entries, in file order.</summary>
    public IReadOnlyList<ManifestEntry> Entries { get; }

    /// <summary>Absolute path of the manifest file this was loaded from or saved to last, or null for one built in memory.</summary>
    public string? SourcePath { get; private set; }

    /// <summary>Number of entries.</summary>
    public int Count => Entries.Count;

    /// <summary>Sum of <see cref="ManifestEntry.NumSamples"/> over all entries.</summary>
    public long TotalSamples { get; }

    /// <summary>Absolute path of the audio file of entry <paramref name="index"/>.</summary>
    /// <param name="index">Zero-based entry index.</param>
    public string GetFullPath(int index) => Path.GetFullPath(Path.Combine(Root, Entries[index].RelativePath));

    /// <summary>The manifest with only the given entries, in the given order (same root).</summary>
    /// <param name="indices">Zero-based entry indices.</param>
    /// <remarks>The subset keeps <see cref="SourcePath"/> and each entry's line in that file (<see cref="LineOf"/>), so
    /// errors about a selected entry name the line of the original file, not its position in the subset.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside <c>[0, Count)</c>.</exception>
    public Manifest Select(IEnumerable<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var picked = indices.ToArray();
        foreach (var i in picked)
            if ((uint)i >= (uint)Entries.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Entry index {i} is outside [0, {Entries.Count}).");
        var lines = new int[picked.Length];
        for (var j = 0; j < picked.Length; j++) lines[j] = SourceLine(picked[j]);
        return new Manifest(Root, picked.Select(i => Entries[i]), SourcePath) { _lines = lines };
    }

    /// <summary>The 1-based line of entry <paramref name="index"/> in <see cref="SourcePath"/> (the root is line 1, so
    /// entry 0 of a loaded file is line 2); for a subset made by <see cref="Select"/>, the line in the original file.
    /// Null for a manifest built in memory.</summary>
    /// <param name="index">Zero-based entry index in this manifest.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside <c>[0, Count)</c>.</exception>
    public int? LineOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Entries.Count);
        return SourcePath is null ? null : SourceLine(index);
    }

    /// <summary>Where entry <paramref name="index"/> came from, for messages: <c>line N of 'file'</c>, or
    /// <c>(in memory)</c>.</summary>
    internal string Describe(int index) =>
        SourcePath is null ? "(in memory)" : string.Create(CultureInfo.InvariantCulture, $"line {SourceLine(index)} of '{SourcePath}'");

    private int SourceLine(int index) => _lines is null ? index + 2 : _lines[index];

    /// <summary>Entries' lines in <see cref="SourcePath"/> when they are not <c>index + 2</c> (a selected subset).</summary>
    private int[]? _lines;

    /// <summary>
    /// Reads a manifest file. A relative root line is resolved against the folder of <paramref name="tsvPath"/>;
    /// <c>\r\n</c> line ends are accepted and blank lines at the end of the file ignored.
    /// </summary>
    /// <param name="tsvPath">The <c>.tsv</c> file.</param>
    /// <exception cref="HArnessDataException">The file does not exist or cannot be read.</exception>
    /// <exception cref="HArnessFormatException">A line is malformed; the message names the file and the 1-based line number.</exception>
    public static Manifest Load(string tsvPath)
    {
        ArgumentNullException.ThrowIfNull(tsvPath);
        var full = Path.GetFullPath(tsvPath);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(full, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HArnessDataException($"Cannot read manifest '{full}': {ex.Message}", full, ex);
        }
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
            throw new HArnessFormatException(
                $"Manifest '{full}' line 1: expected the root folder, found {(lines.Length == 0 ? "an empty file" : "an empty line")}.", full);
        var rootLine = lines[0].Trim();
        if (rootLine.Contains('\0'))
            throw new HArnessFormatException($"Manifest '{full}' line 1: the root folder contains a NUL character.", full);
        var root = Path.IsPathRooted(rootLine) ? rootLine : Path.Combine(Path.GetDirectoryName(full)!, rootLine);
        // Blank lines at the very end (an editor's extra newline) are ignored; anywhere else they are an error.
        var last = lines.Length;
        while (last > 1 && string.IsNullOrWhiteSpace(lines[last - 1])) last--;
        var entries = new List<ManifestEntry>(last - 1);
        long total = 0;
        for (var i = 1; i < last; i++)
        {
            var entry = ParseLine(lines[i], full, i + 1);
            if (entry.NumSamples > long.MaxValue - total)
                throw new HArnessFormatException(
                    $"Manifest '{full}' line {i + 1}: num_samples {entry.NumSamples} makes the total overflow 64 bits.", full);
            total += entry.NumSamples;
            entries.Add(entry);
        }
        return new Manifest(root, entries, full);
    }

    private static ManifestEntry ParseLine(string line, string file, int lineNumber)
    {
        var fields = line.TrimEnd('\r').Split('\t');
        if (fields.Length != 2)
            throw new HArnessFormatException(
                $"Manifest '{file}' line {lineNumber}: expected 'relative/path.wav<TAB>num_samples', found {fields.Length} tab-separated field(s): '{Shorten(line)}'.", file);
        if (fields[0].Length == 0)
            throw new HArnessFormatException($"Manifest '{file}' line {lineNumber}: the path is empty.", file);
        if (fields[0].Contains('\0'))
            throw new HArnessFormatException($"Manifest '{file}' line {lineNumber}: the path contains a NUL character.", file);
        if (!long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var samples))
            throw new HArnessFormatException(
                $"Manifest '{file}' line {lineNumber}: num_samples must be a non-negative integer, found '{Shorten(fields[1])}'.", file);
        return new ManifestEntry(fields[0], samples);
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";

    /// <summary>
    /// Writes the manifest. The root is written relative to the folder of <paramref name="tsvPath"/> (so the corpus
    /// can be moved with its manifests) unless <paramref name="absoluteRoot"/> is true (as fairseq writes it).
    /// </summary>
    /// <param name="tsvPath">The <c>.tsv</c> file to write (its folder is created if needed).</param>
    /// <param name="absoluteRoot">Write the root as an absolute path.</param>
    /// <exception cref="HArnessConfigException">An entry path contains a tab or a line break, which the format cannot hold.</exception>
    public void Save(string tsvPath, bool absoluteRoot = false)
    {
        ArgumentNullException.ThrowIfNull(tsvPath);
        var full = Path.GetFullPath(tsvPath);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder();
        sb.Append(absoluteRoot ? Root : Path.GetRelativePath(dir, Root)).Append('\n');
        foreach (var e in Entries)
        {
            if (e.RelativePath.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
                throw new HArnessConfigException(
                    $"Entry path '{e.RelativePath}' contains a tab or line break and cannot be written to manifest '{full}'.", nameof(Entries));
            sb.Append(e.RelativePath).Append('\t').Append(e.NumSamples.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        AtomicFile.WriteAllText(full, sb.ToString());
        SourcePath = full;
        _lines = null;
    }

    /// <summary>
    /// Builds a manifest from the audio files in a folder (sorted by relative path, ordinal), reading only each file's
    /// WAV header for its length. The root is <paramref name="dir"/>.
    /// </summary>
    /// <param name="dir">Folder to scan.</param>
    /// <param name="searchPattern">File pattern, <c>*.wav</c> by default (matched case-insensitively).</param>
    /// <param name="recursive">Scan sub-folders too.</param>
    /// <param name="onUnreadable">
    /// Called with the path and the error for a file whose header cannot be read, which is then left out; when null
    /// (the default) such a file stops the scan with the error.
    /// </param>
    /// <exception cref="HArnessDataException">The folder does not exist.</exception>
    /// <exception cref="HArnessFormatException">A file is not a readable WAV file (unless <paramref name="onUnreadable"/> is given).</exception>
    public static Manifest FromFolder(string dir, string searchPattern = "*.wav", bool recursive = true,
        Action<string, Exception>? onUnreadable = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var root = Path.GetFullPath(dir);
        if (!Directory.Exists(root))
            throw new HArnessDataException($"Audio folder '{root}' does not exist.", root);
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = recursive,
            MatchCasing = MatchCasing.CaseInsensitive,
            IgnoreInaccessible = false,
        };
        var files = Directory.EnumerateFiles(root, searchPattern, options)
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        var entries = new List<ManifestEntry>(files.Count);
        foreach (var rel in files)
        {
            var path = Path.Combine(root, rel);
            try
            {
                entries.Add(new ManifestEntry(rel, WavReader.ReadInfo(path).Frames));
            }
            catch (HArnessException ex) when (onUnreadable is not null)
            {
                onUnreadable(path, ex);
            }
        }
        return new Manifest(root, entries);
    }
}
