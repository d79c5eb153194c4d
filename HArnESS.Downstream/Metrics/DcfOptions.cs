namespace HArnESS.Downstream.Metrics;

/// <summary>The detection cost function's operating point: <c>DCF = CostMiss · Pmiss · TargetPrior +
/// CostFalseAlarm · Pfa · (1 − TargetPrior)</c>, normalised by the cost of the better trivial system
/// <c>min(CostMiss · TargetPrior, CostFalseAlarm · (1 − TargetPrior))</c>, as Kaldi's <c>compute_min_dcf.py</c> and
/// the VoxCeleb challenge report it.</summary>
public sealed record DcfOptions
{
    /// <summary>Prior probability of a target trial, in (0, 1). Default 0.01 (Kaldi's default; VoxSRC uses 0.05).</summary>
    public double TargetPrior { get; init; } = 0.01;

    /// <summary>Cost of a miss (a target rejected), positive. Default 1.</summary>
    public double CostMiss { get; init; } = 1;

    /// <summary>Cost of a false alarm (a non-target accepted), positive. Default 1.</summary>
    public double CostFalseAlarm { get; init; } = 1;

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">A value is out of range; every problem is listed.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        errors.Require(TargetPrior is > 0 and < 1, nameof(TargetPrior), $"{nameof(TargetPrior)} must be in (0, 1), got {TargetPrior}.");
        errors.Require(CostMiss > 0 && double.IsFinite(CostMiss), nameof(CostMiss), $"{nameof(CostMiss)} must be positive and finite, got {CostMiss}.");
        errors.Require(CostFalseAlarm > 0 && double.IsFinite(CostFalseAlarm), nameof(CostFalseAlarm), $"{nameof(CostFalseAlarm)} must be positive and finite, got {CostFalseAlarm}.");
        errors.ThrowIfAny(nameof(DcfOptions));
    }
}
