using System.Globalization;
using System.Text;

namespace HArnESS.Downstream.Evaluation;

/// <summary>Renders evaluation results as one markdown table: a row per model, columns for the upstream's
/// parameters (millions), GMACs per audio second (both with three significant digits below 100, so a tiny model does
/// not show 0.00) and real-time factor, then one column per task metric
/// (<c>task: metric</c>), in the order first seen. The best value of each metric column is bold when more than one
/// model has it; a model without a result for a column shows "–".</summary>
public static class EvaluationTable
{
    /// <summary>The table.</summary>
    /// <param name="results">Results of one or more models on one or more tasks.</param>
    /// <exception cref="ArgumentException">No results, or two results for the same model and task.</exception>
    public static string ToMarkdown(IEnumerable<EvaluationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var list = results.ToList();
        if (list.Count == 0) throw new ArgumentException("No results to tabulate.", nameof(results));
        var dup = list.GroupBy(r => (r.Model, r.Task)).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Two results for model '{dup.Key.Model}' on task '{dup.Key.Task}'.", nameof(results));
        var models = list.Select(r => r.Model).Distinct().ToList();
        var columns = list.SelectMany(r => r.Metrics.Select(m => (r.Task, m.Name, m.HigherIsBetter))).Distinct().ToList();
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("| model | params (M) | GMACs/s | RTF |");
        foreach (var c in columns) sb.Append(' ').Append(c.Task).Append(": ").Append(c.Name).Append(" |");
        sb.Append('\n').Append("|---|---:|---:|---:|").Append(string.Concat(Enumerable.Repeat("---:|", columns.Count))).Append('\n');
        double? Value(string model, (string Task, string Name, bool HigherIsBetter) c) =>
            list.FirstOrDefault(r => r.Model == model && r.Task == c.Task)?.Metrics.FirstOrDefault(m => m.Name == c.Name)?.Value;
        foreach (var model in models)
        {
            var first = list.First(r => r.Model == model);
            var rtf = list.Where(r => r.Model == model && r.AudioSeconds > 0).ToList();
            var meanRtf = rtf.Count == 0 ? double.NaN : rtf.Sum(r => r.RealTimeFactor * r.AudioSeconds) / rtf.Sum(r => r.AudioSeconds);
            sb.Append("| ").Append(model).Append(" | ")
                .Append(Size(first.UpstreamParameters / 1e6)).Append(" | ")
                .Append(Size(first.UpstreamMacsPerSecond / 1e9)).Append(" | ")
                .Append(double.IsNaN(meanRtf) ? "–" : meanRtf.ToString("F3", ci)).Append(" |");
            foreach (var c in columns)
            {
                var v = Value(model, c);
                if (v is null) { sb.Append(" – |"); continue; }
                var all = models.Select(m => Value(m, c)).OfType<double>().ToList();
                var best = c.HigherIsBetter ? all.Max() : all.Min();
                var text = v.Value.ToString("F2", ci);
                sb.Append(' ').Append(all.Count > 1 && v.Value == best ? $"**{text}**" : text).Append(" |");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A size in millions/billions: whole numbers from 100 up, else three significant digits (94.7, 1.23, 0.0213).</summary>
    internal static string Size(double value)
    {
        var ci = CultureInfo.InvariantCulture;
        if (value == 0) return "0";
        if (Math.Abs(value) >= 100) return value.ToString("F0", ci);
        var decimals = Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 0, 9);
        return value.ToString("F" + decimals.ToString(ci), ci);
    }
}
