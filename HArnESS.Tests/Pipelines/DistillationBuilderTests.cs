using HArnESS.Data;
using HArnESS.Distillation.Initialization;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Tests.Pretraining;
using NUnit.Framework;
using TorchSharp;
using Fluent = HArnESS.Distillation.Distillation;

namespace HArnESS.Tests.Pipelines;

public sealed class DistillationBuilderTests
{
    private static SpeechEncoderConfig TeacherConfig => MaskedPretrainingTests.Tiny50Hz with { NumLayers = 4 };

    private static DistillationStudentConfig StudentConfig => new()
    {
        Encoder = MaskedPretrainingTests.Tiny50Hz with { NumLayers = 2 }, Mode = StudentHeadMode.PredictionHeads, TeacherLayers = [4], TeacherDim = 48,
    };

    private static DistillationTeacher Teacher(bool withHead = true)
    {
        torch.manual_seed(11);
        var encoder = new SpeechEncoder(TeacherConfig);
        encoder.eval();
        return new DistillationTeacher(encoder, withHead ? new MaskedPredictionHead(48, 8, 16) : null);
    }

    private static DistillationBuilder Plan(DistillationTeacher teacher) =>
        Fluent.From(teacher).Into(StudentConfig).PredictLayers(2, 4)
            .Train(MaskedPretrainingTests.Demo("train.tsv"), t => t with { MaxSteps = 60, LearningRate = 2e-3, MaxGradientNorm = 5 },
                new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 24000, Seed = 4 })
            .Evaluate(MaskedPretrainingTests.Demo("valid.tsv"), new AudioLoaderOptions { BatchSize = 12, Shuffle = false });

    [Test]
    public void RegressionPlusDiscriminativeFromAnInitialisedStudentRaisesPerLayerCosine()
    {
        using var teacher = Teacher();
        var basePlan = Plan(teacher);
        var plan = basePlan.Loss(l => l.WithDiscriminative(0.5)).Initialize(DistillationInitialization.FirstLayers(2));
        Assert.That(basePlan.Options.Loss.Discriminative, Is.Null, "builders are immutable");
        Assert.That(basePlan.Options.Initialization, Is.Null);
        Assert.That(plan.StudentConfig!.CodeDim, Is.EqualTo(16), "the code projection takes the codebook's width");
        var wasTraining = teacher.Encoder.training;
        torch.manual_seed(12);
        var result = plan.RunAsync().GetAwaiter().GetResult();
        using var student = result.Student;
        var reg = result.Training.History.Series("regression").Select(v => v.Value).ToArray();
        var kl = result.Training.History.Series("kl").Select(v => v.Value).ToArray();
        TestContext.Out.WriteLine($"regression {reg[..10].Average():F3} → {reg[^10..].Average():F3}; kl {kl[..10].Average():F4} → {kl[^10..].Average():F4}; " +
            $"held-out cosine per layer (2, 4): before {string.Join(", ", result.CosineBefore!.Select(c => c.ToString("F3")))}, after {string.Join(", ", result.CosineAfter!.Select(c => c.ToString("F3")))}; {result.InitializedFromTeacher.Count} tensors from the teacher");
        Assert.That(reg[^10..].Average(), Is.LessThan(reg[..10].Average()), "the regression loss falls");
        Assert.That(kl[^10..].Average(), Is.LessThan(kl[..10].Average()), "the discriminative loss falls");
        for (var i = 0; i < 2; i++)
            Assert.That(result.CosineAfter![i], Is.GreaterThan(result.CosineBefore![i] + 0.05), $"layer {result.TeacherLayers[i]}: closer to the teacher than the untrained student");
        Assert.That(result.InitializedFromTeacher, Has.Some.StartsWith("feature_extractor.").And.Some.StartsWith("encoder.layers.1."));
        Assert.That(teacher.Encoder.training, Is.EqualTo(wasTraining), "the teacher's training flag is left as it was");
        Assert.That(teacher.Encoder.parameters().All(p => p.grad is null), "the teacher receives no gradient");
    }

    [Test]
    public void AThinStudentPredictsPcaCompactedTargets()
    {
        using var teacher = Teacher(withHead: false);
        var thin = StudentConfig with { Encoder = StudentConfig.Encoder with { HiddenSize = 32, IntermediateSize = 64 } };
        torch.manual_seed(13);
        var result = Plan(teacher).Into(thin).CompactTargets(12).Initialize(new DistillationInitialization(FrontEndParts.FeatureExtractor))
            .RunAsync().GetAwaiter().GetResult();
        using var student = result.Student;
        TestContext.Out.WriteLine($"PCA 12 of 48 keeps {string.Join(", ", result.CompactionVariance!.Select(v => v.ToString("P1")))}; cosine before {string.Join(", ", result.CosineBefore!.Select(c => c.ToString("F3")))}, after {string.Join(", ", result.CosineAfter!.Select(c => c.ToString("F3")))}");
        Assert.That(student.Config.TargetDim, Is.EqualTo(12));
        Assert.That(result.CompactionVariance, Has.All.InRange(0.3, 1.0));
        for (var i = 0; i < 2; i++) Assert.That(result.CosineAfter![i], Is.GreaterThan(result.CosineBefore![i] + 0.05));
    }

    [Test]
    public void BadPlansAreNamedTogetherBeforeTheFirstStep()
    {
        using var teacher = Teacher(withHead: false);
        var fbank = StudentConfig with { Encoder = StudentConfig.Encoder with { FrontEnd = new FbankFrontEndConfig { Stack = 1, ProjectionDim = 48 } } };
        var plan = Plan(teacher).Into(fbank).PredictLayers(2, 7).Loss(l => l.WithDiscriminative());
        var ex = Assert.Throws<HArnessValidationException>(() => plan.RunAsync());
        var options = ex!.Errors.Select(e => e.Option).ToArray();
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, ex.Errors.Select(e => $"{e.Option}: {e.Message}")));
        Assert.That(options, Does.Contain("Student.TeacherLayers[1]"), "a teacher layer the teacher does not have");
        Assert.That(options, Does.Contain("Student.FrameRate"), "a 100 Hz fbank student against a 50 Hz teacher");
        Assert.That(options, Does.Contain("Loss.Discriminative"), "no codebook for the discriminative loss");

        var noCorpus = Fluent.From(teacher).Into(StudentConfig).Initialize(new DistillationInitialization(FrontEndParts.All, [0, 9]));
        var ex2 = Assert.Throws<HArnessValidationException>(() => noCorpus.Validate());
        Assert.That(ex2!.Errors.Select(e => e.Option), Is.SupersetOf(new[] { "TrainManifest", "Initialization" }), "no corpus, and a layer map naming teacher layer 9 of 4");
    }
}
