using HArnESS.Data;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Tests.Pretraining;
using NUnit.Framework;
using TorchSharp;
using Fluent = HArnESS.Distillation.Distillation;

namespace HArnESS.Tests.Pipelines;

/// <summary>Wang et al.'s two-stage front-end distillation through the fluent builder.</summary>
public sealed class FrontEndDistillationTests
{
    private static SpeechEncoderConfig Teacher50Hz => MaskedPretrainingTests.Tiny50Hz with { NumLayers = 2, MaskTimeProb = 0 };

    /// <summary>A one-layer student of the teacher's width with a 10 ms fbank front-end stacked by 2 (50 Hz, the teacher's rate).</summary>
    private static DistillationStudentConfig FbankStudent(int stack = 2) => new()
    {
        Encoder = Teacher50Hz with { NumLayers = 1, FrontEnd = new FbankFrontEndConfig { Stack = stack, ProjectionDim = 32 } },
        Mode = StudentHeadMode.PredictionHeads, TeacherLayers = [2], TeacherDim = 48,
    };

    [SetUp]
    public void FlushFinalizers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Test]
    public void StageOneLearnsTheTeachersFirstLayerInputStageTwoTrainsFromItAndARerunResumesBoth()
    {
        using var dir = TestPaths.NewTempDirectory();
        torch.manual_seed(21);
        using var teacher = new DistillationTeacher(new SpeechEncoder(Teacher50Hz));
        teacher.Encoder.eval();
        var plan = Fluent.From(teacher).Into(FbankStudent())
            .DistillFrontEnd(30, f => f with { LearningRate = 3e-3 })
            .Train(MaskedPretrainingTests.Demo("train.tsv"), t => t with { MaxSteps = 20, LearningRate = 2e-3, MaxGradientNorm = 5, CheckpointDirectory = dir.Path },
                new AudioLoaderOptions { BatchSize = 4, MaxSampleSize = 16000, Seed = 4 })
            .Evaluate(MaskedPretrainingTests.Demo("valid.tsv"), new AudioLoaderOptions { BatchSize = 12, Shuffle = false, MaxSampleSize = 16000, Crop = CropMode.Start });
        Assert.That(plan.Options.FrontEndDistillation!.Steps, Is.EqualTo(30));

        var stages = new List<DistillationStage>();
        torch.manual_seed(22);
        var result = plan.RunAsync(new SyncProgress(p => stages.Add(p.Stage))).GetAwaiter().GetResult();
        IReadOnlyList<double> after;
        using (var student = result.Student)
        {
            var fe = result.FrontEndTraining!;
            var stage1 = fe.History.Series("regression").Select(v => v.Value).ToArray();
            var stage2 = result.Training.History.Series("regression").Select(v => v.Value).ToArray();
            TestContext.Out.WriteLine($"stage 1 (fbank front-end → teacher hidden_states[0]): regression {stage1[..5].Average():F3} → {stage1[^5..].Average():F3} over {fe.Steps} updates; " +
                $"stage 2: regression {stage2[..5].Average():F3} → {stage2[^5..].Average():F3} over {result.Training.Steps} updates; held-out cosine (layer 2) {result.CosineBefore![0]:F3} → {result.CosineAfter![0]:F3}");
            Assert.That(fe.Steps, Is.EqualTo(30));
            Assert.That(stage1, Has.Length.EqualTo(30));
            Assert.That(stage1[^5..].Average(), Is.LessThan(stage1[..5].Average() * 0.9), "the stage-1 loss falls");
            Assert.That(result.Training.Steps, Is.EqualTo(20), "stage 2 runs after stage 1");
            Assert.That(result.CosineAfter![0], Is.GreaterThan(result.CosineBefore![0]), "stage 2 brings the student closer to the teacher");
            Assert.That(stages.IndexOf(DistillationStage.FrontEnd), Is.LessThan(stages.IndexOf(DistillationStage.Training)), "stage 1 first");
            Assert.That(Directory.GetFiles(Path.Combine(dir.Path, "frontend"), "step-*.safetensors"), Is.Not.Empty, "stage 1 checkpoints in frontend/");
            after = result.CosineAfter!;
        }

        // A rerun resumes both stages from their final checkpoints: no update, the same student.
        var rerun = plan.RunAsync().GetAwaiter().GetResult();
        using (rerun.Student)
        {
            Assert.That(rerun.FrontEndTraining!.ResumedFromStep, Is.EqualTo(30));
            Assert.That(rerun.Training.ResumedFromStep, Is.EqualTo(20));
            Assert.That(rerun.CosineAfter![0], Is.EqualTo(after[0]).Within(1e-5), "the resumed student is the trained one");
        }
    }

    [Test]
    public void FrameRatesNoStackingOrSubsamplerReconcilesAreRefusedByName()
    {
        torch.manual_seed(23);
        using var teacher = new DistillationTeacher(new SpeechEncoder(Teacher50Hz));
        var train = MaskedPretrainingTests.Demo("train.tsv");

        // 10 ms fbank frames unstacked against a 20 ms teacher: stacking 2 would fix it, and the message says so.
        var unstacked = Fluent.From(teacher).Into(FbankStudent(stack: 1)).DistillFrontEnd(10).Train(train, t => t with { MaxSteps = 1 });
        var ex = Assert.Throws<HArnessValidationException>(() => unstacked.Validate())!;
        var error = ex.Errors.Single(e => e.Option == "FrontEndDistillation.FrameRate");
        TestContext.Out.WriteLine(error.Message);
        Assert.That(error.Message, Does.Contain("Stack = 2"));

        // A 5 ms teacher (the tiny CNN hops 80 samples) is faster than any 10 ms fbank student can be.
        using var fast = new DistillationTeacher(new SpeechEncoder(EncoderPresets.TinyPostLn with { MaskTimeProb = 0, HiddenSize = 48, NumHeads = 4, PosConvGroups = 4 }));
        var tooSlow = Fluent.From(fast).Into(FbankStudent()).DistillFrontEnd(10).Train(train, t => t with { MaxSteps = 1 });
        var ex2 = Assert.Throws<HArnessValidationException>(() => tooSlow.Validate())!;
        var error2 = ex2.Errors.Single(e => e.Option == "FrontEndDistillation.FrameRate");
        TestContext.Out.WriteLine(error2.Message);
        Assert.That(error2.Message, Does.Contain("No frame stacking or subsampler can reconcile them"));

        // A 30 ms teacher frame is 3 fbank frames: no stride-2 subsampler gives that, stacking 3 does.
        using var slow = new DistillationTeacher(new SpeechEncoder(Teacher50Hz with
        {
            FrontEnd = new CnnFrontEndConfig { Layers = [new(32, 10, 5), new(32, 3, 2), new(32, 3, 2), new(32, 3, 2), new(32, 3, 2), new(32, 2, 2), new(32, 3, 3)] },
        }));
        var subsampled = FbankStudent() with { Encoder = FbankStudent().Encoder with { FrontEnd = new Conv1dSubsamplerConfig { OutputChannels = 32, Channels = 64 } } };
        var ex3 = Assert.Throws<HArnessValidationException>(() => Fluent.From(slow).Into(subsampled).DistillFrontEnd(10).Train(train, t => t with { MaxSteps = 1 }).Validate())!;
        var error3 = ex3.Errors.Single(e => e.Option == "FrontEndDistillation.FrameRate");
        TestContext.Out.WriteLine(error3.Message);
        Assert.That(error3.Message, Does.Contain("Stack = 3"));

        Assert.That(() => Fluent.From(teacher).Into(FbankStudent()).DistillFrontEnd(0).Train(train, t => t with { MaxSteps = 1 }).Validate(),
            Throws.InstanceOf<HArnessValidationException>().With.Property(nameof(HArnessValidationException.Errors)).Some.Property("Option").EqualTo("FrontEndDistillation.Steps"));
    }

    private sealed class SyncProgress(Action<DistillationProgress> action) : IProgress<DistillationProgress>
    {
        public void Report(DistillationProgress value) => action(value);
    }
}
