namespace HArnESS.Reporting;

/// <summary>How <see cref="LossPlot"/> draws a loss history.</summary>
public sealed record LossPlotOptions
{
    /// <summary>Image width in pixels (default 1000).</summary>
    public int Width { get; init; } = 1000;

    /// <summary>Image height in pixels (default 600).</summary>
    public int Height { get; init; } = 600;

    /// <summary>Title above the plot (default "Training loss").</summary>
    public string Title { get; init; } = "Training loss";

    /// <summary>Terms to draw; null draws every term of the history (the validation metric included).</summary>
    public IReadOnlyList<string>? Terms { get; init; }

    /// <summary>Average each training curve over this many updates (a trailing mean; 1 = raw values; default 1); validation points are drawn as they are.</summary>
    public int Smoothing { get; init; } = 1;

    /// <summary>Logarithmic loss axis (log10 of the values; default false).</summary>
    public bool LogScale { get; init; }

    /// <summary>Checks every value and throws all problems at once.</summary>
    /// <exception cref="HArnessValidationException">Lists every invalid option.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Width is >= 100 and <= 10_000, nameof(Width), $"Width must be in [100, 10000] pixels, got {Width}.");
        e.Require(Height is >= 100 and <= 10_000, nameof(Height), $"Height must be in [100, 10000] pixels, got {Height}.");
        e.Require(Smoothing >= 1, nameof(Smoothing), $"Smoothing must be ≥ 1, got {Smoothing}.");
        e.Require(Title is not null, nameof(Title), "Title must not be null.");
        e.ThrowIfAny(nameof(LossPlotOptions));
    }
}
