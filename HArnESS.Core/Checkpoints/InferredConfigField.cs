namespace HArnESS.Checkpoints;

/// <summary>A config value a checkpoint did not state and the loader chose (a checkpoint without
/// <c>config.json</c>): listed in <see cref="LoadReport.Inferred"/> and logged as a warning.</summary>
/// <param name="Option">The <c>SpeechEncoderConfig</c> property ("NumHeads", "FrontEnd.Layers[1].Stride", …).</param>
/// <param name="Value">The value chosen.</param>
/// <param name="Reason">Why that value, and the <see cref="CheckpointLoadOptions"/> property that sets it instead.</param>
public sealed record InferredConfigField(string Option, string Value, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Option} = {Value} ({Reason})";
}
