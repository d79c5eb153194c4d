using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;

namespace HArnESS.Tests.Pipelines;

/// <summary>The Fbank student against the CNN student of the same transformer (Wang et al.: −17% parameters, 2×
/// faster). Analytic counts (<see cref="EncoderCost"/>, asserted equal to the built modules in the Students tests),
/// DistilHuBERT's 2 × 768 transformer, 10 s of 16 kHz audio, heads left out (what remains after distillation).</summary>
public sealed class FbankStudentCostTests
{
    [Test]
    public void TheFbankStudentHasFewerParametersAndMacsThanTheCnnStudentOfTheSameTransformer()
    {
        const long samples = 160_000;
        var cnn = StudentPresets.DistilHubert();
        var fbank = StudentPresets.DistilHubert(new FbankFrontEndConfig());
        var subsampler = StudentPresets.DistilHubert(new Conv1dSubsamplerConfig());
        var rows = new[] { ("CNN", cnn), ("fbank 80 × 2 → 512", fbank), ("conv subsampler (1 × k5, GLU) → 512", subsampler) }
            .Select(x => (Name: x.Item1, Params: x.Item2.CountParameters(includeHeads: false), Macs: EncoderCost.CountMacs(x.Item2.Encoder, samples),
                FrontMacs: x.Item2.Encoder.FrontEnd.CountMacs(samples), Frames: EncoderCost.OutputFrames(x.Item2.Encoder, samples))).ToArray();
        foreach (var r in rows)
            TestContext.Out.WriteLine($"{r.Name,-38} {r.Params,12:N0} parameters ({(double)r.Params / rows[0].Params - 1:+0.0%;-0.0%}), " +
                $"{r.Macs / 1e9,7:F2} GMACs per 10 s ({(double)r.Macs / rows[0].Macs:F3} × CNN; front-end {r.FrontMacs / 1e9:F3}), {r.Frames} frames");

        var (c, f) = (rows[0], rows[1]);
        Assert.That(f.Frames, Is.EqualTo(c.Frames).Within(DistillationStudentConfig.FrameTolerance), "the same 50 Hz frames into the same transformer");
        Assert.That(c.Params - f.Params, Is.EqualTo(cnn.Encoder.FrontEnd.CountParameters() - fbank.Encoder.FrontEnd.CountParameters()),
            "only the front-end differs");
        Assert.That(f.Params, Is.LessThan(c.Params * 0.85), "about 17% fewer parameters (the paper's −17%)");
        Assert.That(f.Macs, Is.LessThan(c.Macs / 2), "fewer than half the multiply-accumulates");
        Assert.That(rows[2].Params, Is.LessThan(c.Params));
    }
}
