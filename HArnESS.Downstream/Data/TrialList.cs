using System.Text;
using HArnESS.Data;

namespace HArnESS.Downstream.Data;

/// <summary>A VoxCeleb-style trial list: one trial per line, <c>label pathA pathB</c> with label 1 (target) or 0
/// (non-target), separated by spaces or tabs (the demo corpus's <c>sv_trials.txt</c>, VoxCeleb1's
/// <c>veri_test2.txt</c>).</summary>
public sealed class TrialList
{
    private TrialList(string? path, Trial[] trials)
    {
        Path = path;
        Trials = trials;
    }

    /// <summary>Absolute path of the file, or null for one built in memory.</summary>
    public string? Path { get; }

    /// <summary>The trials, in file order.</summary>
    public IReadOnlyList<Trial> Trials { get; }

    /// <summary>Every utterance the trials name, each once, in first-use order.</summary>
    public IReadOnlyList<string> Utterances => Trials.SelectMany(t => new[] { t.Enrollment, t.Test }).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Reads a trial list.</summary>
    /// <param name="path">The file.</param>
    /// <param name="manifest">When given, every utterance must be one of its entries' relative paths.</param>
    /// <exception cref="HArnessDataException">The file cannot be read, holds no trial, or names an utterance the manifest does not hold (the message names the file, line and utterance).</exception>
    /// <exception cref="HArnessFormatException">A line is not <c>0|1 pathA pathB</c>; the message names the file and line.</exception>
    public static TrialList Load(string path, Manifest? manifest = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        var lines = DataFiles.ReadLines(full, "trial list");
        var trials = new List<Trial>(lines.Length);
        var known = manifest is null ? null : new HashSet<string>(manifest.Entries.Select(e => e.RelativePath), StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 3 || f[0] is not ("0" or "1"))
                throw new HArnessFormatException($"Trial list '{full}' line {i + 1}: expected '1|0 pathA pathB', found '{DataFiles.Shorten(line)}'.", full);
            foreach (var u in f.Skip(1))
                if (known is not null && !known.Contains(u))
                    throw new HArnessDataException(
                        $"Trial list '{full}' line {i + 1}: utterance '{u}' is not in manifest '{manifest!.SourcePath ?? "(in memory)"}'.", full);
            trials.Add(new Trial(f[0] == "1", f[1], f[2]));
        }
        if (trials.Count == 0) throw new HArnessDataException($"Trial list '{full}' holds no trial.", full);
        return new TrialList(full, trials.ToArray());
    }

    /// <summary>A trial list built in memory.</summary>
    /// <param name="trials">The trials.</param>
    /// <exception cref="ArgumentException">No trials.</exception>
    public static TrialList FromTrials(IEnumerable<Trial> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        var a = trials.ToArray();
        if (a.Length == 0) throw new ArgumentException("A trial list needs at least one trial.", nameof(trials));
        return new TrialList(null, a);
    }

    /// <summary>Writes the list (<c>1 a b</c> lines, atomically).</summary>
    /// <param name="path">The file.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var sb = new StringBuilder();
        foreach (var t in Trials) sb.Append(t.IsTarget ? '1' : '0').Append(' ').Append(t.Enrollment).Append(' ').Append(t.Test).Append('\n');
        HArnESS.Serialization.AtomicFile.WriteAllText(System.IO.Path.GetFullPath(path), sb.ToString());
    }
}
