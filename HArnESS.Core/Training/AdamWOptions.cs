namespace HArnESS.Training;

/// <summary>AdamW's hyper-parameters (PyTorch's <c>torch.optim.AdamW</c> defaults apart from the weight decay,
/// which is the trainer's default of 0.01 as in PyTorch).</summary>
public sealed record AdamWOptions
{
    /// <summary>β₁, the first-moment decay (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β₂, the second-moment decay (default 0.999; fairseq's wav2vec2/HuBERT recipes use 0.98).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε added to the denominator (default 1e-8; fairseq recipes use 1e-6).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Adds every problem to <paramref name="errors"/>.</summary>
    /// <param name="errors">The collector.</param>
    /// <param name="prefix">Option path for the messages.</param>
    public void Validate(ValidationErrors errors, string prefix = "AdamW")
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Require(Beta1 is >= 0 and < 1, $"{prefix}.Beta1", $"{prefix}.Beta1 must be in [0, 1), got {Beta1}.");
        errors.Require(Beta2 is >= 0 and < 1, $"{prefix}.Beta2", $"{prefix}.Beta2 must be in [0, 1), got {Beta2}.");
        errors.Require(Epsilon > 0 && double.IsFinite(Epsilon), $"{prefix}.Epsilon", $"{prefix}.Epsilon must be positive, got {Epsilon}.");
    }
}
