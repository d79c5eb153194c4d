using HArnESS.Serialization;

namespace HArnESS.Checkpoints;

/// <summary>What happened when a state dict was loaded into a model, key by key (HArnESS names).</summary>
/// <param name="Missing">Model parameters the checkpoint does not have (they keep their initial values).</param>
/// <param name="Unexpected">Checkpoint tensors the model has no parameter for (not loaded).</param>
/// <param name="MisShaped">Tensors whose shape differs from the model's (not loaded).</param>
/// <param name="Ignored">Checkpoint keys of heads an encoder does not use (CTC, quantizer, HuBERT label embeddings), original names.</param>
/// <param name="Loaded">Number of tensors copied into the model.</param>
public sealed record LoadReport(
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<MisShapedTensor> MisShaped,
    IReadOnlyList<string> Ignored,
    int Loaded)
{
    /// <summary>Config values the checkpoint did not state and the loader chose (a checkpoint without
    /// <c>config.json</c>); empty when the config came from a file or the options. Each is also logged as a warning.</summary>
    public IReadOnlyList<InferredConfigField> Inferred { get; init; } = [];

    /// <summary>True when nothing is missing, unexpected or mis-shaped.</summary>
    public bool IsClean => Missing.Count == 0 && Unexpected.Count == 0 && MisShaped.Count == 0;

    /// <summary>A multi-line description naming every problem key.</summary>
    public string Describe()
    {
        var lines = new List<string> { $"loaded {Loaded} tensors, ignored {Ignored.Count} head tensors" };
        if (Missing.Count > 0) lines.Add($"missing ({Missing.Count}): {string.Join(", ", Missing)}");
        if (Unexpected.Count > 0) lines.Add($"unexpected ({Unexpected.Count}): {string.Join(", ", Unexpected)}");
        if (MisShaped.Count > 0) lines.Add($"mis-shaped ({MisShaped.Count}): {string.Join("; ", MisShaped)}");
        if (Inferred.Count > 0) lines.Add($"inferred config ({Inferred.Count}): {string.Join("; ", Inferred)}");
        return string.Join(Environment.NewLine, lines);
    }

    /// <inheritdoc />
    public override string ToString() => Describe();
}
