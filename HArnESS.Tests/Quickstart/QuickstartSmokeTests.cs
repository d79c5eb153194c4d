using System.Text.Json;
using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Quickstart;

/// <summary>Runs the quickstart (<c>samples/Quickstart</c>, built beside the tests) with <c>--smoke</c> end to end as a
/// child process, once, and checks what it leaves in its output folder: <c>report.json</c> in the issue's schema
/// with values in range, the plots, the saved students, and that a CNN student loads back with
/// <see cref="SpeechEncoder"/>'s loader. The smoke run trains for a few updates only, so the metrics are checked for
/// range, not for beating chance (the full run is measured in the README).</summary>
[NonParallelizable]
public sealed class QuickstartSmokeTests
{
    private TempDirectory? _dir;
    private string _output = "";
    private string _console = "";
    private JsonElement _report;

    [OneTimeSetUp]
    public void RunSmoke()
    {
        _dir = TestPaths.NewTempDirectory();
        _output = Path.Combine(_dir.Path, "out");
        var quickstart = Path.Combine(AppContext.BaseDirectory, "Quickstart.dll");
        Assert.That(File.Exists(quickstart), Is.True, $"the Quickstart sample is built beside the tests: {quickstart}");
        var (code, text) = DotnetProcess.Run(TestPaths.RepoRoot, [quickstart, "--smoke", "--device", "cpu", "--out", _output],
            new Dictionary<string, string?> { [HArnESS.Runtime.RuntimeOptions.DeviceVariable] = "cpu" }, timeoutMs: 1_800_000);
        _console = text;
        Assert.That(code, Is.EqualTo(0), $"the quickstart failed:\n{text}");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_output, "report.json")));
        _report = doc.RootElement.Clone();
    }

    [OneTimeTearDown]
    public void Clean() => _dir?.Dispose();

    private static double Number(JsonElement e, string name)
    {
        Assert.That(e.TryGetProperty(name, out var v), Is.True, $"'{name}' is in {e}");
        Assert.That(v.ValueKind, Is.EqualTo(JsonValueKind.Number), $"'{name}' is a number");
        return v.GetDouble();
    }

    private static void Fraction(JsonElement e, string name, string where)
    {
        var v = Number(e, name);
        Assert.That(v, Is.InRange(0.0, 1.0), $"{where}.{name} is a fraction");
    }

    [Test]
    public void TheReportHasTheIssueSchemaWithValuesInRange()
    {
        var r = _report;
        Assert.That(Number(r.GetProperty("corpus"), "utterances"), Is.EqualTo(115), "the demo corpus's training split");
        Assert.That(Number(r.GetProperty("corpus"), "seconds"), Is.GreaterThan(60));
        Assert.That(r.GetProperty("device").GetString(), Is.EqualTo("cpu"));
        Assert.That(Number(r, "elapsed_seconds"), Is.GreaterThan(0));

        var iterations = r.GetProperty("iterations").EnumerateArray().ToArray();
        Assert.That(iterations.Select(i => Number(i, "iteration")), Is.EqualTo(new[] { 1.0, 2.0 }));
        Assert.That(iterations[0].GetProperty("features").GetString(), Is.EqualTo("mfcc39"));
        Assert.That(iterations[1].GetProperty("features").GetString(), Does.Contain("layer").And.Contain("PCA"));
        foreach (var i in iterations)
        {
            Assert.That(Number(i, "k"), Is.GreaterThanOrEqualTo(2));
            Fraction(i, "masked_accuracy", "iterations");
        }

        var models = r.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.That(models.Keys, Is.EqualTo(new[] { "teacher", "HS", "HST", "fbank" }));
        foreach (var (name, m) in models)
        {
            Assert.That(Number(m, "parameters"), Is.GreaterThan(1000), name);
            Assert.That(m.GetProperty("parameters").TryGetInt64(out _), Is.True, $"{name}.parameters is an integer");
            Assert.That(Number(m, "gmacs_per_10s"), Is.GreaterThan(0), name);
            Assert.That(Number(m, "real_time_factor"), Is.GreaterThan(0), name);
            Assert.That(Number(m, "speedup_vs_teacher"), Is.GreaterThan(0), name);
            var cosine = m.GetProperty("layer_cosine_to_teacher");
            if (name == "teacher") Assert.That(cosine.ValueKind, Is.EqualTo(JsonValueKind.Null));
            else
            {
                Assert.That(cosine.GetArrayLength(), Is.EqualTo(3), $"{name}: one cosine per predicted teacher layer");
                Assert.That(cosine.EnumerateArray().Select(c => c.GetDouble()), Is.All.InRange(-1.0, 1.0));
            }
            var t = m.GetProperty("tasks");
            Assert.That(Number(t.GetProperty("asr"), "cer"), Is.GreaterThanOrEqualTo(0), $"{name} asr.cer");
            Assert.That(Number(t.GetProperty("asr"), "wer"), Is.GreaterThanOrEqualTo(0), $"{name} asr.wer");
            Fraction(t.GetProperty("ser"), "ua", name + ".ser");
            Fraction(t.GetProperty("ser"), "wa", name + ".ser");
            Fraction(t.GetProperty("did"), "accuracy", name + ".did");
            Fraction(t.GetProperty("kws"), "accuracy", name + ".kws");
            Fraction(t.GetProperty("sv"), "eer", name + ".sv");
            var onnx = m.GetProperty("onnx");
            Assert.That(onnx.TryGetProperty("error", out _), Is.False, $"{name} exported to ONNX and ran: {onnx}");
            Assert.That(Number(onnx, "fp32_bytes"), Is.GreaterThan(Number(onnx, "int8_bytes")), $"{name}: the int8 graph is smaller");
            Assert.That(Number(onnx, "fp32_max_abs_diff"), Is.LessThan(1e-3), $"{name}: ONNX Runtime fp32 matches TorchSharp");
        }
        Assert.That(Number(models["teacher"], "speedup_vs_teacher"), Is.EqualTo(1.0));
        foreach (var s in new[] { "HS", "HST" })
        {
            Assert.That(Number(models[s], "parameters"), Is.LessThan(Number(models["teacher"], "parameters")), $"{s} is smaller than the teacher");
            Assert.That(Number(models[s], "gmacs_per_10s"), Is.LessThan(Number(models["teacher"], "gmacs_per_10s")), $"{s} computes less than the teacher");
        }

        var multitask = r.GetProperty("multitask");
        foreach (var setting in new[] { "joint", "single_task", "frozen" })
        {
            Fraction(multitask.GetProperty(setting), "kws_accuracy", setting);
            Fraction(multitask.GetProperty(setting), "sv_eer", setting);
        }
    }

    [Test]
    public void PlotsAndSavedModelsAreWhereTheReportSays()
    {
        var artifacts = _report.GetProperty("artifacts");
        var plots = artifacts.GetProperty("plots").EnumerateArray().Select(p => p.GetString()!).ToArray();
        Assert.That(plots, Has.Some.StartsWith("plots/loss-pretraining-iter").And.Some.StartsWith("plots/loss-distill-")
            .And.Some.EqualTo("plots/compare-speed.png"));
        foreach (var p in plots)
        {
            Assert.That(Path.IsPathRooted(p), Is.False, $"{p} is relative to the output folder");
            var bytes = File.ReadAllBytes(Path.Combine(_output, p));
            Assert.That(bytes[..4], Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), p);
        }
        var models = artifacts.GetProperty("models").EnumerateArray().Select(p => p.GetString()!).ToArray();
        Assert.That(models, Is.SupersetOf(new[] { "models/HS", "models/HST", "models/fbank" }));
        foreach (var m in models)
        {
            Assert.That(File.Exists(Path.Combine(_output, m, "model.safetensors")), Is.True, $"{m}/model.safetensors");
            Assert.That(File.Exists(Path.Combine(_output, m, "config.json")), Is.True, $"{m}/config.json");
        }
        Assert.That(_console, Does.Contain("| model").And.Contain("| teacher").And.Contain("| HST"), "the comparison table is printed");
    }

    [Test]
    public void ACnnStudentLoadsBackWithSpeechEncoderLoad()
    {
        var hs = _report.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "HS");
        using var encoder = SpeechEncoder.Load(Path.Combine(_output, "models", "HS"));
        Assert.That(encoder.Config.FrontEnd, Is.InstanceOf<CnnFrontEndConfig>());
        Assert.That(encoder.NumLayers, Is.EqualTo((int)Number(hs, "layers")));
        Assert.That(encoder.CountParameters(includeMaskEmbedding: false), Is.EqualTo((long)Number(hs, "parameters")));
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        encoder.eval();
        using var output = encoder.Forward(torch.randn(1, 16000));
        Assert.That(output.LastHiddenState.shape, Is.EqualTo(new long[] { 1, encoder.OutputFrames(16000), encoder.HiddenSize }));
    }

    /// <summary><c>--teacher PATH</c> with the folder the smoke run pre-trained: no pre-training, the same students and
    /// tasks, and the report says where the teacher came from.</summary>
    [Test]
    public void AGivenTeacherSkipsPretrainingAndFeedsTheSameStages()
    {
        var teacher = Path.Combine(_output, _report.GetProperty("teacher_source").GetString()!);
        Assert.That(Directory.Exists(teacher), Is.True, $"the smoke run's teacher folder: {teacher}");
        var output = Path.Combine(_dir!.Path, "given-teacher");
        var (code, text) = RunQuickstart("--smoke", "--device", "cpu", "--teacher", teacher, "--out", output);
        Assert.That(code, Is.EqualTo(0), $"the quickstart failed:\n{text}");
        Assert.That(text, Does.Contain("(given; no pre-training)"));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        var r = doc.RootElement;
        Assert.That(r.GetProperty("iterations").GetArrayLength(), Is.Zero);
        Assert.That(Directory.Exists(Path.Combine(output, "pretraining")), Is.False);
        Assert.That(r.GetProperty("teacher_source").GetString(), Is.EqualTo(Path.GetFullPath(teacher)));
        var names = r.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToArray();
        Assert.That(names, Is.EqualTo(new[] { "teacher", "HS", "HST", "fbank" }));
        var teacherParameters = r.GetProperty("models")[0].GetProperty("parameters").GetInt64();
        Assert.That(teacherParameters, Is.EqualTo(_report.GetProperty("models")[0].GetProperty("parameters").GetInt64()), "the same teacher");
    }

    [TestCase("--teacher", "no/such/checkpoint", "not found")]
    [TestCase("--steps", "0", "--steps must be a positive integer")]
    [TestCase("--device", "tpu", "--device 'tpu'")]
    [TestCase("--bogus", null, "unknown option '--bogus'")]
    public void BadOptionsAreRefusedByNameBeforeAnythingRuns(string option, string? value, string message)
    {
        var output = Path.Combine(_dir!.Path, "refused-" + option.TrimStart('-'));
        string[] args = value is null ? [option, "--out", output] : [option, value, "--out", output];
        var (code, text) = RunQuickstart(args);
        Assert.That(code, Is.EqualTo(2), text);
        Assert.That(text, Does.Contain(message));
        Assert.That(Directory.Exists(output), Is.False, "nothing was written");
    }

    private static (int Code, string Text) RunQuickstart(params string[] args) =>
        DotnetProcess.Run(TestPaths.RepoRoot, [Path.Combine(AppContext.BaseDirectory, "Quickstart.dll"), .. args],
            new Dictionary<string, string?> { [HArnESS.Runtime.RuntimeOptions.DeviceVariable] = "cpu" }, timeoutMs: 600_000);
}
