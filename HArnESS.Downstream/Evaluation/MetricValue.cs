namespace HArnESS.Downstream.Evaluation;

/// <summary>One reported number of an evaluation.</summary>
/// <param name="Name">Column name ("WER %", "UA %", "EER %", "minDCF").</param>
/// <param name="Value">The value, in the unit the name states.</param>
/// <param name="HigherIsBetter">Direction, for the table's best-value marking.</param>
public sealed record MetricValue(string Name, double Value, bool HigherIsBetter);
