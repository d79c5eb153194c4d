using HArnESS.Export;
using HArnESS.Features;
using NUnit.Framework;
using static HArnESS.Tests.Export.OnnxTestSupport;
using static TorchSharp.torch;

namespace HArnESS.Tests.Export;

/// <summary>The in-graph Kaldi fbank against the library's <see cref="Fbank"/> (itself checked against torchaudio).</summary>
public sealed class OnnxFbankTests
{
    [TestCase(80, 1.0)]
    [TestCase(40, 1.0)]
    [TestCase(80, 0.003)]
    public void InGraphFbankMatchesLibraryFbank(int bins, double gain)
    {
        HArnESS.Runtime.HArnessRuntime.EnsureInitialized();
        using var dir = TestPaths.NewTempDirectory();
        var options = FbankOptions.Default80 with { NumMelBins = bins };
        var result = OnnxExporter.ExportFbank(options, dir.File("fbank.onnx"));
        const int time = 8000;
        var lengths = new long[] { time, 5000, 401 };
        var wave = Pad(TestAudio(3, time, seed: 9), lengths);
        for (var b = 0; b < 3; b++)
            for (var t = 0; t < time; t++) wave[b, t] *= (float)gain;
        var onnx = Run(result.ModelPath, ("waveforms", wave.Cast<float>().ToArray(), new[] { 3, time }), ("lengths", lengths, new[] { 3 }));
        using var scope = NewDisposeScope();
        var (features, frameLengths) = new Fbank(options).Compute(ToTensor(wave), tensor(lengths));
        Assert.That(onnx["frame_lengths"].Data, Is.EqualTo(ToDoubles(frameLengths)));
        Assert.That(onnx["features"].Shape.Select(d => (long)d), Is.EqualTo(features.shape));
        var err = MaxAbs(onnx["features"].Data, ToDoubles(features));
        TestContext.Out.WriteLine($"fbank {bins} bins, gain {gain}: max abs {err:E2}");
        Assert.That(err, Is.LessThanOrEqualTo(1e-4));
    }

    [Test]
    public void ReflectedEdgesAreRefused()
    {
        using var dir = TestPaths.NewTempDirectory();
        var e = Assert.Throws<HArnessValidationException>(() =>
            OnnxExporter.ExportFbank(FbankOptions.Default80 with { Frame = new FrameOptions { SnipEdges = false } }, dir.File("f.onnx")))!;
        Assert.That(e.Errors.Single().Option, Is.EqualTo("Fbank.Frame.SnipEdges"));
    }
}
