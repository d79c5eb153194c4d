namespace HArnESS.Training;

/// <summary>
/// A learning-rate schedule as a factor of each group's peak learning rate, a pure function of the update number
/// (so resuming needs only the step). Update <c>s</c> (0-based) trains with <c>peak · Factor(s)</c>.
/// </summary>
/// <remarks>
/// Formulas (W = <see cref="WarmupSteps"/>, H = <see cref="HoldSteps"/>, T = total updates, f = <see cref="FinalScale"/>,
/// i = <see cref="InitialScale"/>):
/// <list type="bullet">
/// <item><c>Constant</c>, <c>Linear</c>, <c>Cosine</c> (Hugging Face's lambdas): warmup <c>s / W</c> for s &lt; W; then with
/// progress <c>p = (s − W) / max(1, T − W)</c> clipped to [0, 1]: constant 1; linear <c>f + (1 − f)(1 − p)</c>; cosine
/// <c>f + (1 − f) · ½(1 + cos πp)</c>.</item>
/// <item><c>TriStage</c> (fairseq's <c>tri_stage</c>, with its stage lengths given in steps): warmup
/// <c>i + (1 − i) · s / W</c> for s &lt; W; hold 1 for s &lt; W + H; decay <c>exp(ln(f) · (s − W − H) / D)</c> for
/// s &lt; W + H + D with D = <see cref="DecaySteps"/> (or T − W − H when null); then f.</item>
/// </list>
/// </remarks>
public sealed record LearningRateSchedule
{
    /// <summary>No warmup and no decay: the peak learning rate throughout.</summary>
    public static LearningRateSchedule ConstantRate { get; } = new();

    /// <summary>The shape.</summary>
    public ScheduleKind Kind { get; init; } = ScheduleKind.Constant;

    /// <summary>Warmup updates (default 0).</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Updates held at the peak after warmup (tri-stage only; default 0).</summary>
    public long HoldSteps { get; init; }

    /// <summary>Decay updates (tri-stage only); null decays over the rest of the run.</summary>
    public long? DecaySteps { get; init; }

    /// <summary>Factor at the end of decay (default 0; fairseq's tri-stage default is 0.05 — set it).</summary>
    public double FinalScale { get; init; }

    /// <summary>Factor at the start of a tri-stage warmup (fairseq's <c>init_lr_scale</c>, default 0.01).</summary>
    public double InitialScale { get; init; } = 0.01;

    /// <summary>Linear warmup over <paramref name="warmup"/> updates, then linear decay to <paramref name="finalScale"/>.</summary>
    public static LearningRateSchedule WarmupLinear(long warmup, double finalScale = 0) =>
        new() { Kind = ScheduleKind.Linear, WarmupSteps = warmup, FinalScale = finalScale };

    /// <summary>Linear warmup over <paramref name="warmup"/> updates, then cosine decay to <paramref name="finalScale"/>.</summary>
    public static LearningRateSchedule WarmupCosine(long warmup, double finalScale = 0) =>
        new() { Kind = ScheduleKind.Cosine, WarmupSteps = warmup, FinalScale = finalScale };

    /// <summary>fairseq's tri-stage schedule with explicit stage lengths.</summary>
    public static LearningRateSchedule TriStageSchedule(long warmup, long hold, long decay, double initialScale = 0.01, double finalScale = 0.05) =>
        new() { Kind = ScheduleKind.TriStage, WarmupSteps = warmup, HoldSteps = hold, DecaySteps = decay, InitialScale = initialScale, FinalScale = finalScale };

    /// <summary>fairseq's tri-stage schedule from its phase ratios (<c>phase_ratio</c> [warmup, hold, decay] of
    /// <paramref name="totalSteps"/>, each stage <c>floor(ratio · total)</c> updates as fairseq computes them).</summary>
    public static LearningRateSchedule TriStageFromRatios(long totalSteps, double warmup, double hold, double decay,
        double initialScale = 0.01, double finalScale = 0.05) =>
        TriStageSchedule((long)(warmup * totalSteps), (long)(hold * totalSteps), (long)(decay * totalSteps), initialScale, finalScale);

    /// <summary>The factor of the peak learning rate for update <paramref name="step"/> (0-based) of a run of
    /// <paramref name="totalSteps"/> updates.</summary>
    /// <param name="step">The update (0-based).</param>
    /// <param name="totalSteps">Updates in the whole run (<see cref="TrainerOptions.MaxSteps"/>).</param>
    public double Factor(long step, long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var w = WarmupSteps;
        if (Kind == ScheduleKind.TriStage)
        {
            if (step < w) return InitialScale + (1 - InitialScale) * step / (double)w;
            var s = step - w;
            if (s < HoldSteps) return 1.0;
            s -= HoldSteps;
            var d = DecaySteps ?? Math.Max(0, totalSteps - w - HoldSteps);
            if (s < d) return Math.Exp(Math.Log(FinalScale) * s / d);
            return FinalScale;
        }
        if (step < w) return step / (double)Math.Max(1, w);
        var p = Math.Clamp((step - w) / (double)Math.Max(1, totalSteps - w), 0, 1);
        return Kind switch
        {
            ScheduleKind.Linear => FinalScale + (1 - FinalScale) * (1 - p),
            ScheduleKind.Cosine => FinalScale + (1 - FinalScale) * 0.5 * (1 + Math.Cos(Math.PI * p)),
            _ => 1.0,
        };
    }

    /// <summary>Adds every problem with this schedule to <paramref name="errors"/>, options named under <paramref name="prefix"/>.</summary>
    /// <param name="errors">The collector.</param>
    /// <param name="prefix">The option path ("TrainerOptions.Schedule").</param>
    public void Validate(ValidationErrors errors, string prefix = "Schedule")
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Require(Enum.IsDefined(Kind), $"{prefix}.Kind", $"{prefix}.Kind {Kind} is not a schedule kind.");
        errors.Require(WarmupSteps >= 0, $"{prefix}.WarmupSteps", $"{prefix}.WarmupSteps must be ≥ 0, got {WarmupSteps}.");
        errors.Require(HoldSteps >= 0, $"{prefix}.HoldSteps", $"{prefix}.HoldSteps must be ≥ 0, got {HoldSteps}.");
        errors.Require(DecaySteps is null or >= 0, $"{prefix}.DecaySteps", $"{prefix}.DecaySteps must be ≥ 0, got {DecaySteps}.");
        errors.Require(FinalScale is >= 0 and <= 1, $"{prefix}.FinalScale", $"{prefix}.FinalScale must be in [0, 1], got {FinalScale}.");
        errors.Require(InitialScale is >= 0 and <= 1, $"{prefix}.InitialScale", $"{prefix}.InitialScale must be in [0, 1], got {InitialScale}.");
        errors.Require(Kind != ScheduleKind.TriStage || FinalScale > 0, $"{prefix}.FinalScale",
            $"{prefix}.FinalScale must be > 0 for a tri-stage schedule (its decay is exponential), got {FinalScale}.");
    }
}
