using System.Diagnostics;
using HArnESS.Audio;
using HArnESS.Encoders;
using HArnESS.Export;
using HArnESS.Inference;
using NUnit.Framework;
using static HArnESS.Tests.Export.OnnxTestSupport;
using static TorchSharp.torch;

namespace HArnESS.Tests.Inference;

/// <summary>The samples/OnnxInference app (references HArnESS.Inference only) runs an exported fbank student with a
/// CTC head and an emotion head on a WAV and prints the transcript and the label the library computes.</summary>
public sealed class OnnxInferenceSampleTests
{
    [Test]
    public void SamplePrintsTranscriptAndEmotionLabel()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var student = RandomEncoder(EncoderPresets.TinyFbank, seed: 30);
        var gen = new Generator(31);
        using var ctcW = randn([6, 32], generator: gen);
        using var emoW = randn([4, 32], generator: gen);
        var path = OnnxExporter.Export(student, dir.File("student.onnx"), new OnnxExportOptions
        {
            Quantization = OnnxQuantization.Int8Dynamic,
            Heads =
            [
                new OnnxHead { Kind = OnnxHeadKind.Ctc, Weight = ctcW, Labels = ["<pad>", "|", "h", "e", "l", "o"] },
                new OnnxHead { Kind = OnnxHeadKind.Classification, Weight = emoW, Labels = ["neutral", "happy", "sad", "angry"] },
            ],
        }).ModelPath;
        var wav = dir.File("speech.wav");
        WavWriter.Write(wav, new AudioClip(TestAudio(1, 24000, seed: 6).Cast<float>().ToArray(), 16000));
        SpeechModelOutput expected;
        using (var model = SpeechModel.Load(path)) expected = model.RunWav(wav);

        var app = Path.Combine(AppContext.BaseDirectory, "OnnxInference.dll");
        Assert.That(File.Exists(app), Is.True, $"the sample is built beside the tests: {app}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { app, path, wav }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(60_000), Is.True, "the sample must finish");
        Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result);
        Assert.That(stdout.Result, Does.Contain($"transcript: \"{expected.Transcripts![0]}\""));
        Assert.That(stdout.Result, Does.Contain($"label: {expected.Classifications![0].Label} ("));
        Assert.That(stdout.Result, Does.Contain("Int8Dynamic"));

        var deps = Path.Combine(TestPaths.RepoRoot, "samples", "OnnxInference", "bin",
#if DEBUG
            "Debug",
#else
            "Release",
#endif
            "net10.0", "OnnxInference.deps.json");
        Assert.That(File.ReadAllText(deps), Does.Not.Contain("TorchSharp").And.Not.Contain("libtorch").And.Contain("Microsoft.ML.OnnxRuntime"));
    }
}
