using System.Buffers.Binary;
using HArnESS.Reporting;
using HArnESS.Training;
using NUnit.Framework;

namespace HArnESS.Tests.Training;

public sealed class LossPlotTests
{
    private static LossHistory History()
    {
        var h = new LossHistory();
        for (var s = 1; s <= 50; s++)
            h.Add(new LossRecord(s, s / 10, "train", new Dictionary<string, double> { ["total"] = 3.0 / s, ["ce"] = 2.0 / s }, 1e-3, 1.0));
        for (var s = 10; s <= 50; s += 10)
            h.Add(new LossRecord(s, s / 10, "valid", new Dictionary<string, double> { ["total"] = 3.5 / s, ["ce"] = 2.5 / s }, double.NaN, double.NaN));
        return h;
    }

    [Test]
    public void ThePlotIsAPngOfTheRequestedSize()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var csv = tmp.File("loss_history.csv");
        History().SaveCsv(csv);
        var png = tmp.File("loss.png");
        LossPlot.SaveFromCsv(csv, png, new LossPlotOptions { Width = 640, Height = 400, Smoothing = 5 });
        var bytes = File.ReadAllBytes(png);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }));
        Assert.That(System.Text.Encoding.ASCII.GetString(bytes, 12, 4), Is.EqualTo("IHDR"));
        Assert.That((BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20))), Is.EqualTo((640, 400)));
        Assert.That(bytes.Length, Is.GreaterThan(5_000), "curves, axes and legend were drawn");
    }

    [Test]
    public void UnknownTermsAndEmptyHistoriesAreNamedErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => LossPlot.RenderPng(History(), new LossPlotOptions { Terms = ["kl"] }))!;
        Assert.That(e.Message, Does.Contain("kl").And.Contain("total, ce"));
        Assert.Throws<ArgumentException>(() => LossPlot.RenderPng(new LossHistory()));
        var v = Assert.Throws<HArnessValidationException>(() => LossPlot.RenderPng(History(), new LossPlotOptions { Width = 1, Smoothing = 0 }))!;
        Assert.That(v.Errors.Select(x => x.Option), Is.EquivalentTo(new[] { "Width", "Smoothing" }));
    }
}
