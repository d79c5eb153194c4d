using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HArnESS.Benchmarks;

/// <summary>
/// A BenchmarkDotNet column with the seconds of audio processed per wall-clock second: the audio one operation covers
/// (fixed, or read from the case's parameters, e.g. its batch size) over the operation's mean time. One class for the
/// feature, student, training-step and trainer benchmarks, which differ only in that audio and the display.
/// </summary>
/// <param name="audioSecondsPerOperation">Seconds of audio one benchmark operation processes, for a case.</param>
/// <param name="legend">The legend line BenchmarkDotNet prints under the table.</param>
/// <param name="format">Numeric format of the value (invariant culture).</param>
/// <param name="name">The column header.</param>
public sealed class AudioRateColumn(Func<BenchmarkCase, double> audioSecondsPerOperation, string legend, string format = "F2",
    string name = "audio s/s") : IColumn
{
    /// <inheritdoc/>
    public string Id => $"{nameof(AudioRateColumn)}.{name}";
    /// <inheritdoc/>
    public string ColumnName => name;
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => legend;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean is { } ns && ns > 0
            ? (audioSecondsPerOperation(benchmarkCase) / (ns / 1e9)).ToString(format, CultureInfo.InvariantCulture)
            : "NA";
}
