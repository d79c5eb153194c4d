using System.Text.Json;
using HArnESS.Distillation.Targets;
using NUnit.Framework;

namespace HArnESS.Tests.Targets;

public sealed class ClusterQualityTests
{
    [Test]
    public void MatchesFairseqMeasureTeacherQuality()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Targets", "quality_reference.json");
        var fx = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        var q = new ClusterQuality();
        foreach (var u in fx.GetProperty("utterances").EnumerateArray())
            q.Add(u.GetProperty("phones").EnumerateArray().Select(p => p.GetString()!).ToList(),
                u.GetProperty("units").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        var r = q.Compute();
        Assert.That(r.PhonePurity, Is.EqualTo(fx.GetProperty("phone_purity").GetDouble()).Within(1e-9));
        Assert.That(r.ClusterPurity, Is.EqualTo(fx.GetProperty("cluster_purity").GetDouble()).Within(1e-9));
        Assert.That(r.Pnmi, Is.EqualTo(fx.GetProperty("pnmi").GetDouble()).Within(1e-6));
        Assert.That(r.MutualInformation, Is.EqualTo(fx.GetProperty("mutual_information").GetDouble()).Within(1e-6));
        Assert.That(r.Frames, Is.EqualTo(120 + 95 + 143));
    }

    [Test]
    public void PerfectAndIndependentLabelsGiveTheBounds()
    {
        var perfect = new ClusterQuality();
        perfect.Add([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]);
        var p = perfect.Compute();
        Assert.That(p.Pnmi, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(p.PhonePurity, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(p.ClusterPurity, Is.EqualTo(1.0).Within(1e-12));

        var independent = new ClusterQuality();
        independent.Add([0, 0, 1, 1], [0, 1, 0, 1]);
        var i = independent.Compute();
        Assert.That(i.Pnmi, Is.EqualTo(0.0).Within(1e-12));
        Assert.That(i.PhonePurity, Is.EqualTo(0.5).Within(1e-12));
    }

    [Test]
    public void LengthMismatchBeyondToleranceIsNamed()
    {
        var q = new ClusterQuality { LengthTolerance = 1 };
        q.Add([0, 1, 1], [0, 1]); // within tolerance: 2 frames used
        var ex = Assert.Throws<HArnessDataException>(() => q.Add([0, 1, 1, 1], [0, 1], "utt-7"));
        Assert.That(ex!.Message, Does.Contain("utt-7"));
        Assert.That(q.Compute().Frames, Is.EqualTo(2));
        Assert.Throws<HArnessDataException>(() => new ClusterQuality().Compute());
    }
}
