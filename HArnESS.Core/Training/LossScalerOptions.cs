namespace HArnESS.Training;

/// <summary>Dynamic loss scaling for float16 (PyTorch's <c>GradScaler</c> defaults).</summary>
public sealed record LossScalerOptions
{
    /// <summary>Starting scale (default 2¹⁶ = 65536).</summary>
    public double InitialScale { get; init; } = 65536;

    /// <summary>The scale is multiplied by this after <see cref="GrowthInterval"/> updates without overflow (default 2).</summary>
    public double GrowthFactor { get; init; } = 2;

    /// <summary>The scale is multiplied by this on overflow, and the update is skipped (default 0.5).</summary>
    public double BackoffFactor { get; init; } = 0.5;

    /// <summary>Updates without overflow before the scale grows (default 2000).</summary>
    public int GrowthInterval { get; init; } = 2000;

    /// <summary>The scale never falls below this (default 2⁻¹⁴); reaching it with gradients still overflowing is
    /// reported as non-finite gradients.</summary>
    public double MinScale { get; init; } = 1.0 / 16384;

    /// <summary>Adds every problem to <paramref name="errors"/>.</summary>
    /// <param name="errors">The collector.</param>
    /// <param name="prefix">Option path for the messages.</param>
    public void Validate(ValidationErrors errors, string prefix = "LossScaler")
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Require(InitialScale > 0 && double.IsFinite(InitialScale), $"{prefix}.InitialScale", $"{prefix}.InitialScale must be positive, got {InitialScale}.");
        errors.Require(GrowthFactor > 1, $"{prefix}.GrowthFactor", $"{prefix}.GrowthFactor must be > 1, got {GrowthFactor}.");
        errors.Require(BackoffFactor is > 0 and < 1, $"{prefix}.BackoffFactor", $"{prefix}.BackoffFactor must be in (0, 1), got {BackoffFactor}.");
        errors.Require(GrowthInterval > 0, $"{prefix}.GrowthInterval", $"{prefix}.GrowthInterval must be positive, got {GrowthInterval}.");
        errors.Require(MinScale > 0 && MinScale <= InitialScale, $"{prefix}.MinScale", $"{prefix}.MinScale must be in (0, InitialScale], got {MinScale}.");
    }
}
