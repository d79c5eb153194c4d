using System.Buffers.Binary;
using HArnESS.Reporting;
using NUnit.Framework;
using SkiaSharp;

namespace HArnESS.Tests.Reporting;

public sealed class ComparisonChartTests
{
    // ScottPlot's Category10 palette: series 0, 1, 2.
    private static readonly SKColor Blue = SKColor.Parse("#1f77b4");
    private static readonly SKColor Orange = SKColor.Parse("#ff7f0e");
    private static readonly SKColor Green = SKColor.Parse("#2ca02c");

    private static int Count(SKBitmap bitmap, SKColor colour)
    {
        var n = 0;
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) == colour) n++;
        return n;
    }

    [Test]
    public void GroupedBarsArePaintedPerSeriesWithTallerBarsForLargerValues()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var png = tmp.File("chart.png");
        ComparisonChart.Save(["teacher", "HS", "HST"],
            [new ComparisonSeries("small", [1, 1, 1]), new ComparisonSeries("large", [4, 4, 4]), new ComparisonSeries("missing", [double.NaN, double.NaN, double.NaN])],
            png, new ComparisonChartOptions { Width = 640, Height = 400, Title = "test", ValueLabels = false });
        var bytes = File.ReadAllBytes(png);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }));
        Assert.That((BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20))), Is.EqualTo((640, 400)));
        using var bitmap = SKBitmap.Decode(bytes);
        var small = Count(bitmap, Blue);
        var large = Count(bitmap, Orange);
        var missing = Count(bitmap, Green);
        TestContext.Out.WriteLine($"pixels: small {small}, large {large}, missing (legend swatch only) {missing}");
        Assert.That(small, Is.GreaterThan(200), "three bars of the first series");
        // Same widths, four times the height (less the legend swatches, which are the same size for every series).
        Assert.That((large - missing) / (double)(small - missing), Is.EqualTo(4).Within(0.6));
        Assert.That(missing, Is.LessThan(small / 2), "a NaN draws no bar, only its legend swatch");
    }

    [Test]
    public void MismatchedOrEmptyInputsAreNamedErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => ComparisonChart.RenderPng(["a", "b"], [new ComparisonSeries("rtf", [1.0])]))!;
        Assert.That(e.Message, Does.Contain("'rtf'").And.Contain("1 values").And.Contain("2 categories"));
        Assert.Throws<ArgumentException>(() => ComparisonChart.RenderPng([], [new ComparisonSeries("x", [])]));
        Assert.Throws<ArgumentException>(() => ComparisonChart.RenderPng(["a"], []));
        Assert.Throws<ArgumentException>(() => ComparisonChart.RenderPng(["a"], [new ComparisonSeries("x", [double.PositiveInfinity])]));
        Assert.Throws<ArgumentException>(() => ComparisonChart.RenderPng(["a"], [new ComparisonSeries("x", [double.NaN])]));
        var v = Assert.Throws<HArnessValidationException>(() =>
            ComparisonChart.RenderPng(["a"], [new ComparisonSeries("x", [1.0])], new ComparisonChartOptions { Width = 1, Height = 20_000 }))!;
        Assert.That(v.Errors.Select(x => x.Option), Is.EquivalentTo(new[] { "Width", "Height" }));
    }
}
