using HArnESS.Audio;
using HArnESS.Data;

namespace HArnESS.Downstream.Data;

/// <summary>A plain <c>path&lt;TAB&gt;label</c> list, one utterance per line, paths relative to the list's folder
/// (or absolute): the simplest way people hand over a classification corpus.</summary>
public sealed class LabelledList
{
    private LabelledList(string path, LabelledItem[] items)
    {
        Path = path;
        Root = System.IO.Path.GetDirectoryName(path)!;
        Items = items;
    }

    /// <summary>Absolute path of the list.</summary>
    public string Path { get; }

    /// <summary>Folder relative paths are resolved against (the list's folder).</summary>
    public string Root { get; }

    /// <summary>The items, in file order.</summary>
    public IReadOnlyList<LabelledItem> Items { get; }

    /// <summary>Reads a list.</summary>
    /// <param name="path">The file.</param>
    /// <param name="labels">When given, every label must be in it (a validation or test list read against the training set).</param>
    /// <exception cref="HArnessDataException">The file cannot be read or holds no item, or a label is not in <paramref name="labels"/> (the message names file, line and label).</exception>
    /// <exception cref="HArnessFormatException">A line is not <c>path&lt;TAB&gt;label</c> with both non-empty; the message names file and line.</exception>
    public static LabelledList Load(string path, LabelSet? labels = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        var lines = DataFiles.ReadLines(full, "labelled list");
        var items = new List<LabelledItem>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var f = lines[i].Split('\t');
            if (f.Length != 2 || f[0].Trim().Length == 0 || f[1].Trim().Length == 0)
                throw new HArnessFormatException(
                    $"Labelled list '{full}' line {i + 1}: expected 'path<TAB>label', found '{DataFiles.Shorten(lines[i])}'.", full);
            var label = f[1].Trim();
            if (labels is not null) labels.Map(label, full, i + 1);
            items.Add(new LabelledItem(f[0].Trim(), label, i + 1));
        }
        if (items.Count == 0) throw new HArnessDataException($"Labelled list '{full}' holds no item.", full);
        return new LabelledList(full, items.ToArray());
    }

    /// <summary>The label set of this list's labels (sorted ordinally).</summary>
    public LabelSet LabelSet() => new(Items.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    /// <summary>Class ids of the items in <paramref name="labels"/>.</summary>
    /// <exception cref="HArnessDataException">A label is not in the set; the message names the file, the line and the label.</exception>
    public int[] ClassIds(LabelSet labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return Items.Select(i => labels.Map(i.Label, Path, i.Line)).ToArray();
    }

    /// <summary>A fairseq manifest of the items (root = the list's folder), lengths read from the WAV headers.</summary>
    /// <exception cref="HArnessDataException">An audio file is missing; the message names it and the list line.</exception>
    /// <exception cref="HArnessFormatException">An audio file is not a readable WAV file.</exception>
    public Manifest ToManifest()
    {
        var entries = new List<ManifestEntry>(Items.Count);
        foreach (var item in Items)
        {
            var audio = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, item.RelativePath));
            if (!File.Exists(audio))
                throw new HArnessDataException($"Labelled list '{Path}' line {item.Line}: audio file '{audio}' does not exist.", Path);
            entries.Add(new ManifestEntry(item.RelativePath, WavReader.ReadInfo(audio).Frames));
        }
        return new Manifest(Root, entries);
    }
}
