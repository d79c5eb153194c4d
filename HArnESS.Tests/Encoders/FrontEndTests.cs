using System.Diagnostics;
using System.Text.Json.Nodes;
using HArnESS.Audio;
using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Serialization;
using HArnESS.Features;
using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Encoders;

/// <summary>Front-ends as config sections: the conv1d subsampler against fairseq's, one frame formula per
/// front-end, and a saved Fbank student (options + CMVN) reproducing its outputs in a fresh process.</summary>
public sealed class FrontEndTests
{
    private static string Wav => TestPaths.Fixtures("Audio", "resample", "en_16000.wav");

    [Test]
    public void Conv1dSubsamplerMatchesFairseq()
    {
        // scripts/fixtures/make_subsampler_fixture.py: fairseq's Conv1dSubsampler(80, 1024, 16, [5]), torch 1.13.
        using var _ = no_grad();
        using var fixture = SafeTensors.Open(TestPaths.Fixtures("Encoders", "conv1d_subsampler.safetensors"));
        using var module = new Conv1dSubsampler(new Conv1dSubsamplerConfig { OutputChannels = 16 });
        foreach (var (name, p) in module.named_parameters())
        {
            using var w = fixture.Load("subsample." + name);
            p.copy_(w);
        }
        using var input = fixture.Load("input");
        using var lengths = fixture.Load("input_lengths");
        using var expected = fixture.Load("output");
        using var expectedLengths = fixture.Load("output_lengths");
        var (y, l) = module.ForwardFeatures(input, lengths);
        using (y)
        using (l)
        {
            Assert.That(y.shape, Is.EqualTo(expected.shape));
            using var diff = (y - expected).abs().max();
            Assert.That(diff.item<float>(), Is.LessThan(1e-5f));
            Assert.That(l!.data<long>().ToArray(), Is.EqualTo(expectedLengths.data<long>().ToArray()));
        }
        var config = (Conv1dSubsamplerConfig)module.Config;
        Assert.That(new long[] { 37, 20, 1 }.Select(config.OutputFramesFromInput), Is.EqualTo(expectedLengths.data<long>().ToArray()));
    }

    [Test]
    public void SubsamplerStudentUsesOneFrameFormulaEverywhere()
    {
        var config = EncoderPresets.TinySubsampler;
        // 16000 samples → 98 Kaldi frames (25 ms / 10 ms) → floor((98 - 1) / 2 + 1) = 49 frames of 20 ms, like the CNN.
        Assert.That(EncoderCost.OutputFrames(config, 16000), Is.EqualTo(49));
        using var model = new SpeechEncoder(config);
        model.eval();
        Assert.That(model.OutputFrames(16000), Is.EqualTo(49));
        Assert.That(model.CountParameters(), Is.EqualTo(EncoderCost.CountParameters(config)));
        Assert.That(model.named_parameters().Select(p => p.name), Does.Contain("subsample.conv_layers.0.weight"));
        // MACs: 49 frames × (2·32 out × 80 in × 5) for the convolution, the rest as for any front-end.
        var withoutFrontEnd = EncoderCost.CountMacs(config, 16000) - config.FrontEnd.CountMacs(16000);
        Assert.That(config.FrontEnd.CountMacs(16000), Is.EqualTo(49L * 64 * 80 * 5));
        // Projection 49·32·32; positional conv (kernel 16, groups 4) over 49 + 2·8 - 16 + 1 = 50 frames; 2 layers of
        // q/k/v/out + FFN (32 → 64 → 32) + the two attention matmuls.
        long perLayer = 49L * (4 * 32 * 32 + 2 * 32 * 64) + 2L * 49 * 49 * 32;
        Assert.That(withoutFrontEnd, Is.EqualTo(49L * 32 * 32 + 50L * 32 * 8 * 16 + 2 * perLayer));

        using var _ = no_grad();
        long[] samples = [16000, 9600, 4000];
        using var batch = randn(3, 16000) * 0.1;
        using var lengths = tensor(samples);
        using var padded = batch.clone();
        for (var b = 1; b < 3; b++) padded[b].narrow(0, samples[b], 16000 - samples[b]).fill_(0.5);
        using var all = model.Forward(padded, lengths);
        Assert.That(all.FrameLengths.data<long>().ToArray(), Is.EqualTo(samples.Select(model.OutputFrames).ToArray()));
        using var mask = model.ComputeTimeMask(3, all.HiddenStates[0].shape[1], all.FrameLengths, new Generator(1));
        Assert.That(mask.shape, Is.EqualTo(new[] { 3L, model.OutputFrames(16000) }));
        for (var b = 0; b < 3; b++)
        {
            using var single = batch[b].narrow(0, 0, samples[b]).unsqueeze(0);
            using var alone = model.Forward(single);
            var n = alone.LastHiddenState.shape[1];
            using var d = (all.LastHiddenState[b].narrow(0, 0, n) - alone.LastHiddenState[0]).abs().max();
            Assert.That(d.item<float>(), Is.LessThan(1e-5f), $"utterance {b}");
        }
    }

    [Test]
    public void ASavedSubsamplerStudentWritesDocumentedFieldsAndLoadsBack()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var student = new SpeechEncoder(EncoderPresets.TinySubsampler);
        student.eval();
        student.Save(dir.Path);
        var o = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!.AsObject();
        Assert.That(o[HfConfigJson.FrontEndField]!.GetValue<string>(), Is.EqualTo("conv1d-subsampler"));
        Assert.That(o.ContainsKey("conv_dim") || o.ContainsKey("architectures"), Is.False, "transformers must not take it for a CNN model");
        Assert.That(o[HfConfigJson.HArnessConfigField]!["FrontEnd"]!["type"]!.GetValue<string>(), Is.EqualTo("conv1d-subsampler"));
        using var loaded = SpeechEncoder.Load(dir.Path);
        Assert.That(loaded.Config, Is.EqualTo(student.Config));
        using var _ = no_grad();
        using var wave = randn(1, 8000) * 0.1;
        using var x = student.Forward(wave);
        using var y = loaded.Forward(wave);
        Assert.That(y.LastHiddenState.equal(x.LastHiddenState).all().item<bool>(), Is.True);
    }

    [Test]
    public void AnFbankStudentWithCmvnGivesIdenticalOutputsInAFreshProcess()
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "HArnESS.TestWorker.dll");
        Assert.That(File.Exists(worker), Is.True, $"the test worker is built beside the tests: {worker}");
        var clip = WavReader.Read(Wav, new WavReadOptions { Mono = true });
        Assert.That(clip.SampleRate, Is.EqualTo(16000));

        // Non-default preprocessing, so a loader that ignored the saved options or statistics would differ.
        var options = FbankOptions.Default80 with { NumMelBins = 40, LowFreq = 60, Frame = new FrameOptions { PreemphasisCoefficient = 0.9 } };
        var stats = new CmvnStats(40);
        using (var w = tensor(clip.Samples).unsqueeze(0))
        using (var l = tensor(new long[] { clip.Samples.Length }))
        {
            var (fb, fbLengths) = new Fbank(options).Compute(w, l);
            using (fb)
            using (fbLengths)
                stats.Accumulate(fb, fbLengths);
        }
        using var dir = TestPaths.NewTempDirectory();
        using var student = SpeechEncoder.Create().FromPreset("tiny-fbank")
            .WithFbankFrontEnd(melBins: 40, stack: 2, projectionDim: 32, options: options, cmvn: stats)
            .WithWaveformInput(16000, normalize: true)
            .Build();
        student.eval();
        student.Save(dir.Path);
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))![HfConfigJson.HArnessConfigField]!;
        Assert.That(saved["FrontEnd"]!["Input"]!["Cmvn"]!["Mean"]!.AsArray(), Has.Count.EqualTo(40));
        Assert.That(saved["NormalizeWaveform"]!.GetValue<bool>(), Is.True);

        var outFile = Path.Combine(dir.Path, "outputs.safetensors");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { worker, "encode", dir.Path, Wav, outFile }) psi.ArgumentList.Add(a);
        using (var p = Process.Start(psi)!)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEndAsync();
            Assert.That(p.WaitForExit(120_000), Is.True, "the worker must finish");
            Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result);
        }

        using var _ = no_grad();
        using var wave = tensor(clip.Samples).unsqueeze(0);
        using var here = student.Forward(wave);
        using var there = SafeTensors.Open(outFile);
        using (var frames = there.Load("frame_lengths"))
            Assert.That(frames.data<long>().ToArray(), Is.EqualTo(new[] { student.OutputFrames(clip.Samples.Length) }));
        for (var i = 0; i < here.HiddenStates.Count; i++)
        {
            using var h = there.Load($"hidden_{i}");
            Assert.That(h.equal(here.HiddenStates[i]).all().item<bool>(), Is.True, $"hidden state {i} is bit-identical");
        }
    }
}
