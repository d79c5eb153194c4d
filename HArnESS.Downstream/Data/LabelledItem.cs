namespace HArnESS.Downstream.Data;

/// <summary>One labelled utterance of a <see cref="LabelledList"/>.</summary>
/// <param name="RelativePath">Audio path relative to the list's root (or absolute).</param>
/// <param name="Label">Class name.</param>
/// <param name="Line">1-based line in the list file (0 when built in memory).</param>
public sealed record LabelledItem(string RelativePath, string Label, int Line);
