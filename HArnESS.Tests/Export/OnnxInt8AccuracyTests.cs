using System.Diagnostics;
using HArnESS.Encoders;
using HArnESS.Inference;
using HArnESS.Runtime;
using HArnESS.Samples.OnnxAccuracy;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Export;

/// <summary>The accuracy cost of int8 (samples/OnnxAccuracy's <see cref="Int8Accuracy"/>): Linear heads for the five
/// demo tasks trained on a tiny fbank student's frozen TorchSharp features, exported with the student to ONNX fp32 and
/// int8 and run with HArnESS.Inference on data/demo's test split. The measured table for larger students is in
/// docs/measurements/onnx-int8-vs-fp32.md.</summary>
[NonParallelizable]
public sealed class OnnxInt8AccuracyTests
{
    private static Int8AccuracyReport _report = null!;
    private static TempDirectory _dir = null!;

    [OneTimeSetUp]
    public void RunComparison()
    {
        HArnessRuntime.EnsureInitialized();
        _dir = TestPaths.NewTempDirectory();
        torch.manual_seed(5);
        using var student = new SpeechEncoder(EncoderPresets.TinyFbank);
        _report = Int8Accuracy.Run("tiny-fbank, random init (seed 5)", student, new Int8AccuracyOptions
        {
            CorpusDirectory = Path.Combine(TestPaths.RepoRoot, "data", "demo"),
            OutputDirectory = _dir.Path,
            Steps = 150,
            AsrSteps = 60,
        });
        TestContext.Progress.WriteLine(_report.ToMarkdown());
    }

    [OneTimeTearDown]
    public void Cleanup() => _dir?.Dispose();

    [Test]
    public void EveryTaskIsReportedOnTheWholeTestSplit()
    {
        Assert.That(_report.Tasks.Select(t => (t.Task, t.Metric, t.TestItems)), Is.EqualTo(new[]
        {
            ("asr", "CER", 22), ("ser", "accuracy", 22), ("did", "accuracy", 22), ("kws", "accuracy", 13), ("sv", "EER", 231),
        }));
        Assert.That(_report.Layers.Select(l => l.Layer), Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(_report.Int8ModelBytes, Is.LessThan(_report.Fp32ModelBytes));
        Assert.That(_report.QuantizedLinears, Is.GreaterThan(0));
    }

    [Test]
    public void OnnxFp32ReproducesTheTorchSharpHeads()
    {
        // The export parity tests bound this at 1e-4 on their inputs; over the 940 demo frames the in-graph fbank's own
        // error (up to 8.4e-5 against Fbank) carries through: 9e-5 measured with seed 5.
        foreach (var l in _report.Layers)
            Assert.That(l.MaxAbsFp32VsTorchSharp, Is.LessThanOrEqualTo(2e-4), $"hidden state {l.Layer}");
        // The same decisions up to float rounding: at most one utterance (SV: an EER step of 0.02) apart.
        foreach (var t in _report.Tasks)
            Assert.That(t.OnnxFp32, Is.EqualTo(t.TorchSharp).Within(t.Task == "sv" ? 0.02 : 1.0 / t.TestItems), t.Task);
    }

    [Test]
    public void HeadsLearnTheUtteranceTasks()
    {
        // Chance: SER 1/4, DID 1/4 (ar is 40 %), KWS 1/10; a random EER is 0.5.
        Assert.That(_report.Task("ser").OnnxFp32, Is.GreaterThanOrEqualTo(0.5));
        Assert.That(_report.Task("did").OnnxFp32, Is.GreaterThanOrEqualTo(0.6));
        Assert.That(_report.Task("kws").OnnxFp32, Is.GreaterThanOrEqualTo(0.3));
        Assert.That(_report.Task("sv").OnnxFp32, Is.LessThanOrEqualTo(0.3));
    }

    [Test]
    public void Int8StaysWithinToleranceOfFp32()
    {
        // Stated tolerance: at most one test utterance per classification task changes its label, SV's EER moves by at
        // most 0.02 and the CER by at most 0.03; every hidden state keeps a per-frame cosine >= 0.999 (mean >= 0.9999).
        foreach (var task in new[] { "ser", "did", "kws" })
        {
            var t = _report.Task(task);
            Assert.That(t.Agreement, Is.GreaterThanOrEqualTo(1 - 1.0 / t.TestItems - 1e-9), task);
            Assert.That(Math.Abs(t.Delta), Is.LessThanOrEqualTo(1.0 / t.TestItems + 1e-9), task);
        }
        Assert.That(Math.Abs(_report.Task("sv").Delta), Is.LessThanOrEqualTo(0.02));
        Assert.That(Math.Abs(_report.Task("asr").Delta), Is.LessThanOrEqualTo(0.03));
        foreach (var l in _report.Layers)
        {
            Assert.That(l.Min, Is.GreaterThanOrEqualTo(0.999), $"hidden state {l.Layer}");
            Assert.That(l.Mean, Is.GreaterThanOrEqualTo(0.9999), $"hidden state {l.Layer}");
        }
    }

    [Test]
    public void MarkdownHoldsBothTables()
    {
        var md = _report.ToMarkdown();
        Assert.That(md, Does.Contain("| task | metric |").And.Contain("| hidden state |").And.Contain("| kws | accuracy | 13 |"));
    }

    [Test]
    public void OnnxInferenceSamplePrintsTheTrainedHeadsTranscriptAndEmotion()
    {
        // The "done when": samples/OnnxInference (HArnESS.Inference only) on the int8 student with trained heads.
        var wav = Path.Combine(TestPaths.RepoRoot, "data", "demo", "wav", "en-us-m1", "en-us-m1_snt03_happy.wav");
        SpeechModelOutput expected;
        using (var model = SpeechModel.Load(_report.Int8ModelPath)) expected = model.RunWav(wav);
        var app = Path.Combine(AppContext.BaseDirectory, "OnnxInference.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { app, _report.Int8ModelPath, wav }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(60_000), Is.True, "the sample must finish");
        Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result);
        var emotion = expected.Classifications![0].Label;
        Assert.That(new[] { "angry", "happy", "neutral", "sad" }, Does.Contain(emotion));
        Assert.That(stdout.Result, Does.Contain($"transcript: \"{expected.Transcripts![0]}\""));
        Assert.That(stdout.Result, Does.Contain($"label: {emotion} ("));
        Assert.That(stdout.Result, Does.Contain("Int8Dynamic"));
        // Its output folder holds ONNX Runtime and HArnESS.Inference, nothing of TorchSharp or libtorch.
        var files = Directory.GetFiles(SampleBin(), "*", SearchOption.AllDirectories);
        Assert.That(files.Select(Path.GetFileName), Has.Some.EqualTo("Microsoft.ML.OnnxRuntime.dll"));
        Assert.That(files.Where(f => Path.GetFileName(f).Contains("torch", StringComparison.OrdinalIgnoreCase)), Is.Empty);
    }

    private static string SampleBin() => Path.Combine(TestPaths.RepoRoot, "samples", "OnnxInference", "bin",
#if DEBUG
        "Debug",
#else
        "Release",
#endif
        "net10.0");
}
