using HArnESS.Encoders;
using HArnESS.Export;
using HArnESS.Features;
using HArnESS.Modules;
using NUnit.Framework;
using static HArnESS.Tests.Export.OnnxTestSupport;
using static TorchSharp.torch;

namespace HArnESS.Tests.Export;

/// <summary>ONNX Runtime output of exported encoders against the TorchSharp forward of the same weights (fp32,
/// ≤ 1e-4 max abs), for batch 1 and a padded batch, on every front-end and both layer-norm placements.</summary>
public sealed class OnnxExportParityTests
{
    private const double Tolerance = 1e-4;

    [TestCase("tiny-post-ln")]
    [TestCase("tiny-pre-ln")]
    [TestCase("tiny-fbank")]
    [TestCase("tiny-subsampler")]
    public void HiddenStatesAndFrameLengthsMatchTorchSharp(string preset)
    {
        using var dir = TestPaths.NewTempDirectory();
        using var model = RandomEncoder(EncoderPresets.Get(preset), seed: 7);
        var result = OnnxExporter.Export(model, dir.File("m.onnx"));
        Assert.That(result.Outputs, Is.EqualTo(new[] { "hidden_state_0", "hidden_state_1", "hidden_state_2", "frame_lengths" }));
        Assert.That(File.Exists(result.SidecarPath), Is.True);

        const int time = 4800;
        foreach (var lengths in new[] { new long[] { time }, new long[] { time, 3700, 2500 } })
        {
            var wave = Pad(TestAudio(lengths.Length, time, seed: 3), lengths);
            var onnx = Run(result.ModelPath, ("waveforms", wave.Cast<float>().ToArray(), new[] { lengths.Length, time }), ("lengths", lengths, new[] { lengths.Length }));
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            var o = model.Forward(ToTensor(wave), tensor(lengths));
            Assert.That(onnx["frame_lengths"].Data, Is.EqualTo(ToDoubles(o.FrameLengths)), $"{preset} batch {lengths.Length}: frame lengths");
            for (var i = 0; i < o.HiddenStates.Count; i++)
            {
                var (data, shape) = onnx[$"hidden_state_{i}"];
                Assert.That(shape.Select(d => (long)d), Is.EqualTo(o.HiddenStates[i].shape), $"hidden_state_{i} shape");
                var err = MaxAbs(data, ToDoubles(o.HiddenStates[i]));
                TestContext.Out.WriteLine($"{preset} batch {lengths.Length} hidden_state_{i}: max abs {err:E2}");
                Assert.That(err, Is.LessThanOrEqualTo(Tolerance), $"{preset} batch {lengths.Length} hidden_state_{i}");
            }
        }
    }

    [Test]
    public void FbankModelWithoutInGraphFbankMatchesForwardFeatures()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var model = RandomEncoder(EncoderPresets.TinyFbank, seed: 11);
        var result = OnnxExporter.Export(model, dir.File("f.onnx"), new OnnxExportOptions { IncludeFbank = false, OutputLayers = [2] });
        Assert.That(result.Outputs, Is.EqualTo(new[] { "hidden_state_2", "frame_lengths" }));
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        var gen = new Generator(5);
        var feats = randn([2, 41, 80], generator: gen);
        var lengths = new long[] { 41, 30 };
        var onnx = Run(result.ModelPath, ("features", ToDoubles(feats).Select(v => (float)v).ToArray(), new[] { 2, 41, 80 }), ("feature_lengths", lengths, new[] { 2 }));
        var o = model.ForwardFeatures(feats, tensor(lengths));
        Assert.That(onnx["frame_lengths"].Data, Is.EqualTo(new double[] { 20, 15 }));
        Assert.That(MaxAbs(onnx["hidden_state_2"].Data, ToDoubles(o.HiddenStates[2])), Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void ChosenLayersStopTheGraphEarly()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var model = RandomEncoder(EncoderPresets.TinyPreLn, seed: 2);
        var result = OnnxExporter.Export(model, dir.File("l.onnx"), new OnnxExportOptions { OutputLayers = [1, 0] });
        Assert.That(result.Outputs, Is.EqualTo(new[] { "hidden_state_0", "hidden_state_1", "frame_lengths" }));
        var wave = TestAudio(1, 3200, seed: 1);
        var onnx = Run(result.ModelPath, ("waveforms", wave.Cast<float>().ToArray(), new[] { 1, 3200 }), ("lengths", new long[] { 3200 }, new[] { 1 }));
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        var o = model.Forward(ToTensor(wave));
        // Pre-LN: hidden state 1 of a 2-layer model is not normalised; the export must not normalise it either.
        Assert.That(MaxAbs(onnx["hidden_state_1"].Data, ToDoubles(o.HiddenStates[1])), Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void InvalidOptionsAreReportedTogether()
    {
        using var dir = TestPaths.NewTempDirectory();
        var reflected = EncoderPresets.TinyFbank with
        {
            FrontEnd = new FbankFrontEndConfig
            {
                Stack = 2, ProjectionDim = 32,
                Input = new FbankInput { Options = FbankOptions.Default80 with { Frame = new FrameOptions { SnipEdges = false, Dither = 1.0 } } },
            },
        };
        using var model = RandomEncoder(reflected, seed: 1);
        var bad = new OnnxExportOptions { OutputLayers = [5], Heads = [new OnnxHead { Kind = OnnxHeadKind.Classification }] };
        var e = Assert.Throws<HArnessValidationException>(() => OnnxExporter.Export(model, dir.File("x.onnx"), bad))!;
        Assert.That(e.Errors.Select(x => x.Option), Is.SupersetOf(new[]
        {
            "OutputLayers", "FrontEnd.Input.Options.Frame.SnipEdges", "FrontEnd.Input.Options.Frame.Dither", "Heads[0].Weight",
        }));
        Assert.That(File.Exists(dir.File("x.onnx")), Is.False);
        // From features the fbank setting does not matter: the graph starts after it.
        Assert.That(OnnxExporter.Export(model, dir.File("f.onnx"), new OnnxExportOptions { IncludeFbank = false }).Outputs, Has.Count.EqualTo(4));
    }

    [Test]
    public void SubsamplerWithCmvnAndInputScaleMatchesTorchSharp()
    {
        using var dir = TestPaths.NewTempDirectory();
        var rng = new Random(3);
        var cmvn = new GlobalCmvn
        {
            Mean = Enumerable.Range(0, 80).Select(_ => 12 + 4 * rng.NextDouble()).ToArray(),
            Scale = Enumerable.Range(0, 80).Select(_ => 0.2 + 0.3 * rng.NextDouble()).ToArray(),
            FrameCount = 1000,
        };
        // fairseq's speech_to_text setting: waveforms scaled to the 16-bit range, global CMVN.
        var config = EncoderPresets.TinySubsampler with
        {
            FrontEnd = new Conv1dSubsamplerConfig { OutputChannels = 32, KernelSizes = [5, 3], Channels = 64, Input = new FbankInput { InputScale = 32768, Cmvn = cmvn } },
        };
        using var model = RandomEncoder(config, seed: 17);
        var result = OnnxExporter.Export(model, dir.File("s.onnx"));
        AssertParity(model, result.ModelPath, "subsampler");
    }

    [Test]
    public void WaveformNormalisationIsInTheGraph()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var model = RandomEncoder(EncoderPresets.TinyPreLn with { NormalizeWaveform = true }, seed: 19);
        AssertParity(model, OnnxExporter.Export(model, dir.File("n.onnx")).ModelPath, "normalised pre-LN");
    }

    private static void AssertParity(SpeechEncoder model, string path, string what)
    {
        const int time = 4800;
        var lengths = new long[] { time, 3100 };
        var wave = Pad(TestAudio(2, time, seed: 8), lengths);
        var onnx = Run(path, ("waveforms", wave.Cast<float>().ToArray(), new[] { 2, time }), ("lengths", lengths, new[] { 2 }));
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        var o = model.Forward(ToTensor(wave), tensor(lengths));
        Assert.That(onnx["frame_lengths"].Data, Is.EqualTo(ToDoubles(o.FrameLengths)), what);
        for (var i = 0; i < o.HiddenStates.Count; i++)
        {
            var err = MaxAbs(onnx[$"hidden_state_{i}"].Data, ToDoubles(o.HiddenStates[i]));
            TestContext.Out.WriteLine($"{what} hidden_state_{i}: max abs {err:E2}");
            Assert.That(err, Is.LessThanOrEqualTo(Tolerance), $"{what} hidden_state_{i}");
        }
    }
}
