using System.Globalization;
using HArnESS.Serialization;
using ScottPlot;

namespace HArnESS.Reporting;

/// <summary>
/// Grouped bar charts comparing models side by side (ScottPlot 5): one group per category (a model), one bar per
/// series (a quantity such as the real-time factor of each runtime, or each task's metric), a legend naming the
/// series and the category names under the groups. Written as PNG, atomically.
/// </summary>
public static class ComparisonChart
{
    /// <summary>Renders the chart to PNG bytes.</summary>
    /// <param name="categories">Group names, left to right (at least one).</param>
    /// <param name="series">The series (at least one), each with one value per category.</param>
    /// <param name="options">Drawing options; defaults when null.</param>
    /// <exception cref="ArgumentException">No category or series, a series whose value count differs from the
    /// category count (named), an infinite value, or no finite value at all.</exception>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public static byte[] RenderPng(IReadOnlyList<string> categories, IReadOnlyList<ComparisonSeries> series, ComparisonChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        options ??= new ComparisonChartOptions();
        options.Validate();
        if (categories.Count == 0) throw new ArgumentException("A comparison chart needs at least one category.", nameof(categories));
        if (series.Count == 0) throw new ArgumentException("A comparison chart needs at least one series.", nameof(series));
        foreach (var s in series)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(series));
            if (s.Values is null || s.Values.Count != categories.Count)
                throw new ArgumentException($"Series '{s.Name}' has {s.Values?.Count ?? 0} values but there are {categories.Count} categories.", nameof(series));
            if (s.Values.Any(double.IsInfinity))
                throw new ArgumentException($"Series '{s.Name}' has an infinite value.", nameof(series));
        }
        if (series.All(s => s.Values.All(double.IsNaN)))
            throw new ArgumentException("Every value is missing (NaN); there is nothing to draw.", nameof(series));

        using var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        var groupWidth = series.Count + 1.0; // one empty slot between groups
        for (var c = 0; c < categories.Count; c++)
            for (var s = 0; s < series.Count; s++)
            {
                var v = series[s].Values[c];
                if (double.IsNaN(v)) continue;
                bars.Add(new Bar
                {
                    Position = c * groupWidth + s,
                    Value = v,
                    FillColor = palette.GetColor(s),
                    Label = options.ValueLabels ? v.ToString("G3", CultureInfo.InvariantCulture) : "",
                });
            }
        plot.Add.Bars(bars.ToArray());
        foreach (var (s, i) in series.Select((s, i) => (s, i)))
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = s.Name, FillColor = palette.GetColor(i) });
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        var ticks = categories.Select((name, c) => new Tick(c * groupWidth + (series.Count - 1) / 2.0, name)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0, top: 0.2);
        plot.Title(options.Title);
        plot.YLabel(options.YLabel);
        return plot.GetImageBytes(options.Width, options.Height, ImageFormat.Png);
    }

    /// <summary>Renders the chart and writes it as a PNG file (atomically).</summary>
    /// <param name="categories">Group names.</param>
    /// <param name="series">The series.</param>
    /// <param name="pngPath">The file to write.</param>
    /// <param name="options">Drawing options; defaults when null.</param>
    public static void Save(IReadOnlyList<string> categories, IReadOnlyList<ComparisonSeries> series, string pngPath, ComparisonChartOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        var bytes = RenderPng(categories, series, options);
        AtomicFile.WriteAllBytes(pngPath, bytes);
    }
}
