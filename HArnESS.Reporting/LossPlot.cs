using HArnESS.Serialization;
using HArnESS.Training;
using ScottPlot;

namespace HArnESS.Reporting;

/// <summary>
/// Draws the loss curves of a training run — every term, training as lines and validation as dashed lines with
/// markers — as a PNG (ScottPlot 5), from a <see cref="LossHistory"/> or its CSV. The file is written atomically.
/// </summary>
public static class LossPlot
{
    /// <summary>Renders a history to PNG bytes.</summary>
    /// <param name="history">The history (at least one record).</param>
    /// <param name="options">Drawing options; defaults when null.</param>
    /// <exception cref="ArgumentException">The history is empty or none of the requested terms is in it.</exception>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public static byte[] RenderPng(LossHistory history, LossPlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= new LossPlotOptions();
        options.Validate();
        if (history.Count == 0) throw new ArgumentException("The loss history is empty; there is nothing to plot.", nameof(history));
        var terms = options.Terms ?? history.TermNames;
        using var plot = new Plot();
        var drawn = 0;
        foreach (var split in history.Splits)
        {
            foreach (var term in terms)
            {
                var series = history.Series(term, split);
                if (series.Count == 0) continue;
                var xs = series.Select(s => (double)s.Step).ToArray();
                var ys = series.Select(s => s.Value).ToArray();
                if (split == "train" && options.Smoothing > 1) ys = TrailingMean(ys, options.Smoothing);
                if (options.LogScale) ys = ys.Select(v => v > 0 ? Math.Log10(v) : double.NaN).ToArray();
                var line = plot.Add.Scatter(xs, ys);
                line.LegendText = $"{split} {term}";
                if (split == "train")
                {
                    line.MarkerSize = 0;
                    line.LineWidth = 1.5f;
                }
                else
                {
                    line.MarkerSize = 6;
                    line.LinePattern = LinePattern.Dashed;
                    line.LineWidth = 2;
                }
                drawn++;
            }
        }
        if (drawn == 0)
            throw new ArgumentException($"None of the terms [{string.Join(", ", terms)}] is in the history (it has: {string.Join(", ", history.TermNames)}).", nameof(options));
        plot.Title(options.Title);
        plot.XLabel("update");
        plot.YLabel(options.LogScale ? "log10(loss)" : "loss");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(options.Width, options.Height, ImageFormat.Png);
    }

    /// <summary>Renders a history and writes it as a PNG file (atomically).</summary>
    /// <param name="history">The history.</param>
    /// <param name="pngPath">The file to write.</param>
    /// <param name="options">Drawing options; defaults when null.</param>
    public static void Save(LossHistory history, string pngPath, LossPlotOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        var bytes = RenderPng(history, options);
        AtomicFile.WriteAllBytes(pngPath, bytes);
    }

    /// <summary>Reads a loss-history CSV (as the trainer writes it) and writes its plot.</summary>
    /// <param name="csvPath">The CSV (<c>loss_history.csv</c> in a checkpoint folder).</param>
    /// <param name="pngPath">The PNG to write.</param>
    /// <param name="options">Drawing options; defaults when null.</param>
    /// <exception cref="HArnessFormatException">The CSV is malformed.</exception>
    public static void SaveFromCsv(string csvPath, string pngPath, LossPlotOptions? options = null) =>
        Save(LossHistory.LoadCsv(csvPath), pngPath, options);

    private static double[] TrailingMean(double[] ys, int window)
    {
        var result = new double[ys.Length];
        double sum = 0;
        for (var i = 0; i < ys.Length; i++)
        {
            sum += ys[i];
            if (i >= window) sum -= ys[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
