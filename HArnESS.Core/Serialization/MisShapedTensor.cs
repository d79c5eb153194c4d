namespace HArnESS.Serialization;

/// <summary>A checkpoint tensor whose shape differs from the model's parameter of the same name.</summary>
/// <param name="Key">HArnESS name of the parameter.</param>
/// <param name="Expected">Shape the model has.</param>
/// <param name="Actual">Shape the checkpoint holds.</param>
public sealed record MisShapedTensor(string Key, IReadOnlyList<long> Expected, IReadOnlyList<long> Actual)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Key}: model {CheckpointTensor.FormatShape(Expected)}, checkpoint {CheckpointTensor.FormatShape(Actual)}";
}
