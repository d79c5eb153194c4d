namespace HArnESS.Training;

/// <summary>
/// The float16 loss scaler: the loss is multiplied by <see cref="Scale"/> before backward and the gradients divided
/// by it after; an update whose gradients overflow (Inf/NaN) is skipped and the scale backs off; after
/// <see cref="LossScalerOptions.GrowthInterval"/> clean updates it grows. Its state (scale, clean-update count) is
/// part of every checkpoint. Under float32 and bfloat16 the trainer keeps it at scale 1, disabled.
/// </summary>
public sealed class DynamicLossScaler
{
    /// <summary>Creates a scaler.</summary>
    /// <param name="options">Scaling options.</param>
    /// <param name="enabled">False keeps the scale at 1 and never skips.</param>
    public DynamicLossScaler(LossScalerOptions options, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Enabled = enabled;
        Scale = enabled ? options.InitialScale : 1;
    }

    /// <summary>The options.</summary>
    public LossScalerOptions Options { get; }

    /// <summary>Whether scaling is on (float16 only).</summary>
    public bool Enabled { get; }

    /// <summary>The current scale.</summary>
    public double Scale { get; private set; }

    /// <summary>Clean updates since the last growth or back-off.</summary>
    public int GoodSteps { get; private set; }

    /// <summary>Updates skipped for overflow so far.</summary>
    public long Overflows { get; private set; }

    /// <summary>Records the outcome of an update.</summary>
    /// <param name="overflow">True when the unscaled gradients had an Inf/NaN.</param>
    /// <returns>True when the update must be applied; false when it is skipped (overflow while enabled).</returns>
    public bool Update(bool overflow)
    {
        if (!Enabled) return !overflow;
        if (overflow)
        {
            Overflows++;
            GoodSteps = 0;
            Scale = Math.Max(Options.MinScale, Scale * Options.BackoffFactor);
            return false;
        }
        if (++GoodSteps >= Options.GrowthInterval)
        {
            GoodSteps = 0;
            Scale *= Options.GrowthFactor;
        }
        return true;
    }

    /// <summary>True when the scale has reached <see cref="LossScalerOptions.MinScale"/>.</summary>
    public bool AtMinimum => Enabled && Scale <= Options.MinScale;

    internal void Restore(double scale, int goodSteps, long overflows)
    {
        Scale = scale;
        GoodSteps = goodSteps;
        Overflows = overflows;
    }
}
