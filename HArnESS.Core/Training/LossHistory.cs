using System.Collections;
using System.Globalization;
using System.Text;
using HArnESS.Serialization;

namespace HArnESS.Training;

/// <summary>
/// Every update's and every validation's loss terms, in order; saved in each checkpoint (so a resumed run's history
/// is the uninterrupted run's) and as CSV. CSV columns: <c>step,epoch,split,lr,grad_norm,</c> then one per term
/// (sorted, "total" first); values are round-trip invariant-culture numbers, empty where a row lacks the term.
/// </summary>
/// <remarks>Stored column-wise (about 60 bytes a row for three terms), so a long run's history costs little
/// memory; <see cref="Records"/> materialises rows on access.</remarks>
public sealed class LossHistory
{
    private readonly List<Row> _rows = [];
    private readonly List<double> _values = [];
    private readonly List<string[]> _schemas = [];
    private readonly List<string> _splits = [];

    /// <summary>The records, oldest first (each built when read).</summary>
    public IReadOnlyList<LossRecord> Records => new RecordView(this);

    /// <summary>Number of records.</summary>
    public int Count => _rows.Count;

    /// <summary>Appends a record.</summary>
    /// <param name="record">The record.</param>
    public void Add(LossRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var names = record.Terms.Keys.ToArray();
        var schema = _schemas.FindIndex(s => s.AsSpan().SequenceEqual(names));
        if (schema < 0)
        {
            schema = _schemas.Count;
            _schemas.Add(names);
        }
        var split = _splits.IndexOf(record.Split);
        if (split < 0)
        {
            split = _splits.Count;
            _splits.Add(record.Split);
        }
        _rows.Add(new Row(record.Step, record.Epoch, (short)split, (short)schema, _values.Count, record.LearningRate, record.GradientNorm));
        foreach (var n in names) _values.Add(record.Terms[n]);
    }

    /// <summary>The values of one term in one split, as (step, value) pairs.</summary>
    /// <param name="term">The term ("total", "ce").</param>
    /// <param name="split">"train" or "valid".</param>
    public IReadOnlyList<(long Step, double Value)> Series(string term, string split = "train")
    {
        var result = new List<(long, double)>();
        var s = _splits.IndexOf(split);
        foreach (var r in _rows)
        {
            if (r.Split != s) continue;
            var j = Array.IndexOf(_schemas[r.Schema], term);
            if (j >= 0) result.Add((r.Step, _values[r.Offset + j]));
        }
        return result;
    }

    /// <summary>Every term name in the history ("total" first, then sorted).</summary>
    public IReadOnlyList<string> TermNames =>
        _schemas.SelectMany(s => s).Distinct().OrderBy(k => k == "total" ? 0 : 1).ThenBy(k => k, StringComparer.Ordinal).ToArray();

    /// <summary>The split names in the history ("train", "valid").</summary>
    public IReadOnlyList<string> Splits => _splits.ToArray();

    internal void Clear()
    {
        _rows.Clear();
        _values.Clear();
        _schemas.Clear();
        _splits.Clear();
    }

    private LossRecord Build(int i)
    {
        var r = _rows[i];
        var names = _schemas[r.Schema];
        var terms = new Dictionary<string, double>(names.Length, StringComparer.Ordinal);
        for (var j = 0; j < names.Length; j++) terms[names[j]] = _values[r.Offset + j];
        return new LossRecord(r.Step, r.Epoch, _splits[r.Split], terms, r.LearningRate, r.GradientNorm);
    }

    /// <summary>The CSV text.</summary>
    public string ToCsv()
    {
        var c = CultureInfo.InvariantCulture;
        var names = TermNames;
        var sb = new StringBuilder("step,epoch,split,lr,grad_norm");
        foreach (var n in names) sb.Append(',').Append(n);
        sb.Append('\n');
        foreach (var r in Records)
        {
            sb.Append(c, $"{r.Step},{r.Epoch},{r.Split},{Num(r.LearningRate)},{Num(r.GradientNorm)}");
            foreach (var n in names) sb.Append(',').Append(r.Terms.TryGetValue(n, out var v) ? Num(v) : "");
            sb.Append('\n');
        }
        return sb.ToString();

        string Num(double v) => double.IsNaN(v) ? "" : v.ToString("R", c);
    }

    /// <summary>Writes the CSV atomically.</summary>
    /// <param name="path">The file.</param>
    public void SaveCsv(string path) => AtomicFile.WriteAllText(path, ToCsv());

    /// <summary>Reads a CSV written by <see cref="SaveCsv"/>.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="HArnessFormatException">The file is not such a CSV (the line and column are named).</exception>
    public static LossHistory LoadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || !lines[0].StartsWith("step,epoch,split,lr,grad_norm", StringComparison.Ordinal))
            throw new HArnessFormatException($"'{path}' is not a loss history CSV: expected the header 'step,epoch,split,lr,grad_norm,…'.", path);
        var header = lines[0].Split(',');
        var history = new LossHistory();
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split(',');
            if (f.Length != header.Length)
                throw new HArnessFormatException($"'{path}' line {i + 1} has {f.Length} fields, expected {header.Length}.", path);
            var terms = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var j = 5; j < f.Length; j++)
                if (f[j].Length > 0) terms[header[j]] = Parse(f[j], i, header[j]);
            history.Add(new LossRecord((long)Parse(f[0], i, "step"), (int)Parse(f[1], i, "epoch"), f[2],
                terms, f[3].Length == 0 ? double.NaN : Parse(f[3], i, "lr"), f[4].Length == 0 ? double.NaN : Parse(f[4], i, "grad_norm")));
        }
        return history;

        double Parse(string s, int line, string column) =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new HArnessFormatException($"'{path}' line {line + 1}, column '{column}': '{s}' is not a number.", path);
    }

    private readonly record struct Row(long Step, int Epoch, short Split, short Schema, int Offset, double LearningRate, double GradientNorm);

    private sealed class RecordView(LossHistory owner) : IReadOnlyList<LossRecord>
    {
        public LossRecord this[int index] => index >= 0 && index < owner._rows.Count ? owner.Build(index)
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"Must be between 0 and {owner._rows.Count - 1}.");

        public int Count => owner._rows.Count;

        public IEnumerator<LossRecord> GetEnumerator()
        {
            for (var i = 0; i < owner._rows.Count; i++) yield return owner.Build(i);
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
