using HArnESS.Data;

namespace HArnESS.Downstream.Data;

/// <summary>The closed set of class names of a classification task; class id = position. Built from the training
/// labels and then used to map validation and test labels, where an unseen label is an error rather than a new
/// class.</summary>
public sealed class LabelSet
{
    private readonly Dictionary<string, int> _ids;

    /// <summary>Creates the set.</summary>
    /// <param name="classes">Class names in id order, distinct and non-empty.</param>
    /// <exception cref="ArgumentException">No classes, an empty name, or a duplicate.</exception>
    public LabelSet(IEnumerable<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        Classes = classes.ToArray();
        if (Classes.Count == 0) throw new ArgumentException("A label set needs at least one class.", nameof(classes));
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Classes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Classes[i])) throw new ArgumentException($"Class {i} has an empty name.", nameof(classes));
            if (!_ids.TryAdd(Classes[i], i)) throw new ArgumentException($"Class '{Classes[i]}' appears twice.", nameof(classes));
        }
    }

    /// <summary>Class names; id = position.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Number of classes.</summary>
    public int Count => Classes.Count;

    /// <summary>The set of a class label file's classes (sorted ordinally, as <see cref="LabelFile.Classes"/>).</summary>
    /// <param name="labels">A class label file (e.g. <c>train.emo</c>).</param>
    public static LabelSet FromLabelFile(LabelFile labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new LabelSet(labels.Classes);
    }

    /// <summary>True when the set holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => _ids.ContainsKey(name);

    /// <summary>The id of a class, or -1.</summary>
    public int IdOf(string name) => _ids.TryGetValue(name, out var id) ? id : -1;

    /// <summary>Maps every line of a class label file to ids in this set.</summary>
    /// <param name="labels">A class label file parallel to a manifest.</param>
    /// <exception cref="HArnessDataException">A label is not in the set; the message names the file, the line and the label.</exception>
    public int[] Map(LabelFile labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var ids = new int[labels.Count];
        for (var i = 0; i < labels.Count; i++) ids[i] = Map(labels[i], labels.Path, i + 1);
        return ids;
    }

    /// <summary>Maps one label.</summary>
    /// <param name="label">The class name.</param>
    /// <param name="file">File it came from, for the message.</param>
    /// <param name="line">1-based line, for the message.</param>
    /// <exception cref="HArnessDataException">The label is not in the set.</exception>
    public int Map(string label, string? file, int line)
    {
        ArgumentNullException.ThrowIfNull(label);
        return _ids.TryGetValue(label, out var id)
            ? id
            : throw new HArnessDataException(
                $"Label file '{file ?? "(in memory)"}' line {line}: label '{label}' is not in the label set ({string.Join(", ", Classes)}).", file);
    }
}
