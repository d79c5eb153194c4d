using System.Diagnostics;
using HArnESS.Distillation.Students;
using HArnESS.Downstream.Evaluation;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Downstream.EndToEnd;

[NonParallelizable]
public sealed class DownstreamSuiteTests
{
    private static string Demo => Path.Combine(TestPaths.RepoRoot, "data", "demo");

    internal static SpeechEncoderConfig Teacher { get; } = EncoderPresets.TinyFbank with
    {
        HiddenSize = 64, NumLayers = 4, NumHeads = 4, IntermediateSize = 128, FrontEnd = new FbankFrontEndConfig { Stack = 2, ProjectionDim = 64 },
        HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0,
    };

    internal static SpeechEncoderConfig Student { get; } = StudentPresets.Hst(width: 32, heads: 4, teacherDim: 64, teacherLayers: 4,
        frontEnd: new FbankFrontEndConfig { Stack = 2, ProjectionDim = 32 }).Encoder with
    { HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0 };

    /// <summary>The four utterance-level tasks on a frozen student upstream (fbank front-end, 2 × 32): each beats
    /// chance by a wide margin (SER 4 classes 25 %, DID majority class 40 %, KWS 10 classes 10 %, SV EER 50 %).</summary>
    [Test]
    public void FrozenStudentBeatsChanceOnSerDidKwsAndSv()
    {
        torch.manual_seed(11);
        using var encoder = new SpeechEncoder(Student);
        var options = new DownstreamSuiteOptions { CorpusDirectory = Demo, Epochs = 8, Tasks = ["ser", "did", "kws", "sv"] };
        var results = DownstreamSuite.Run("student-frozen", encoder, options);
        TestContext.Out.WriteLine(EvaluationTable.ToMarkdown(results));
        Assert.That(results.Select(r => r.Task), Is.EqualTo(new[] { "ser", "did", "kws", "sv" }));
        Assert.That(results[0]["acc %"], Is.GreaterThan(40), "SER: 4 classes, chance 25 %");
        Assert.That(results[1]["acc %"], Is.GreaterThan(50), "DID: majority class 40 %");
        Assert.That(results[2]["acc %"], Is.GreaterThan(20), "KWS: 10 classes, chance 10 %");
        Assert.That(results[3]["EER %"], Is.LessThan(35), "SV: chance EER 50 %");
    }

    [Test]
    public void OptionsReportEveryProblem()
    {
        var ex = Assert.Throws<HArnessValidationException>(() =>
            new DownstreamSuiteOptions { CorpusDirectory = "", Epochs = 0, Tasks = ["nope"] }.Validate())!;
        Assert.That(ex.Errors.Select(e => e.Option), Is.SupersetOf(new[] { "CorpusDirectory", "Epochs", "Tasks" }));
    }
}
