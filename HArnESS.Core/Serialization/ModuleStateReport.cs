namespace HArnESS.Serialization;

/// <summary>What <see cref="ModuleState"/> did, key by key (the module's own <c>state_dict()</c> names).</summary>
/// <param name="Missing">Parameters and buffers of the module the file does not have (they keep their values).</param>
/// <param name="Unexpected">Tensors in the file the module has no parameter or buffer for (not loaded).</param>
/// <param name="MisShaped">Tensors whose shape differs from the module's (not loaded).</param>
/// <param name="Loaded">Number of tensors copied into the module.</param>
public sealed record ModuleStateReport(
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<MisShapedTensor> MisShaped,
    int Loaded)
{
    /// <summary>True when nothing is missing, unexpected or mis-shaped.</summary>
    public bool IsClean => Missing.Count == 0 && Unexpected.Count == 0 && MisShaped.Count == 0;

    /// <summary>A multi-line description naming every problem key.</summary>
    public string Describe()
    {
        var lines = new List<string> { $"loaded {Loaded} tensors" };
        if (Missing.Count > 0) lines.Add($"missing ({Missing.Count}): {string.Join(", ", Missing)}");
        if (Unexpected.Count > 0) lines.Add($"unexpected ({Unexpected.Count}): {string.Join(", ", Unexpected)}");
        if (MisShaped.Count > 0) lines.Add($"mis-shaped ({MisShaped.Count}): {string.Join("; ", MisShaped)}");
        return string.Join(Environment.NewLine, lines);
    }

    /// <inheritdoc />
    public override string ToString() => Describe();
}
