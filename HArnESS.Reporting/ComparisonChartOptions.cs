namespace HArnESS.Reporting;

/// <summary>How <see cref="ComparisonChart"/> draws grouped bars.</summary>
public sealed record ComparisonChartOptions
{
    /// <summary>Image width in pixels (default 1000).</summary>
    public int Width { get; init; } = 1000;

    /// <summary>Image height in pixels (default 600).</summary>
    public int Height { get; init; } = 600;

    /// <summary>Title above the chart (default "Comparison").</summary>
    public string Title { get; init; } = "Comparison";

    /// <summary>Label of the value axis, with its unit (default none).</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Write each bar's value above it (three significant digits; default true).</summary>
    public bool ValueLabels { get; init; } = true;

    /// <summary>Checks every value and throws all problems at once.</summary>
    /// <exception cref="HArnessValidationException">Lists every invalid option.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Width is >= 100 and <= 10_000, nameof(Width), $"Width must be in [100, 10000] pixels, got {Width}.");
        e.Require(Height is >= 100 and <= 10_000, nameof(Height), $"Height must be in [100, 10000] pixels, got {Height}.");
        e.Require(Title is not null, nameof(Title), "Title must not be null.");
        e.Require(YLabel is not null, nameof(YLabel), "YLabel must not be null.");
        e.ThrowIfAny(nameof(ComparisonChartOptions));
    }
}
