namespace HArnESS.Reporting;

/// <summary>One series of a <see cref="ComparisonChart"/>: a value per category (per model), drawn as one bar in
/// each category's group, in one colour with its name in the legend.</summary>
/// <param name="Name">Legend text (e.g. "TorchSharp RTF").</param>
/// <param name="Values">One value per category, in the categories' order; NaN leaves that bar out (a missing value).</param>
public sealed record ComparisonSeries(string Name, IReadOnlyList<double> Values);
