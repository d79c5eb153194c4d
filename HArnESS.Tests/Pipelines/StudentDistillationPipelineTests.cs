using HArnESS.Data;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Tests.Pretraining;
using HArnESS.Training;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Pipelines;

/// <summary>HS and HST from one teacher in one call: the plain path and the continuation of self-distillation.</summary>
public sealed class StudentDistillationPipelineTests
{
    /// <summary>HS: two layers at the teacher's width 48; HST: two layers at 32 (FFN 64), both predicting teacher layers 2 and 4.</summary>
    internal static IReadOnlyList<StudentSpec> TinyStudents(int teacherLayers = 4)
    {
        var hs = new DistillationStudentConfig
        {
            Encoder = MaskedPretrainingTests.Tiny50Hz with { NumLayers = 2, MaskTimeProb = 0 }, Mode = StudentHeadMode.PredictionHeads,
            TeacherLayers = teacherLayers == 4 ? [2, 4] : [1, teacherLayers], TeacherDim = 48,
        };
        var hst = hs with { Encoder = hs.Encoder with { HiddenSize = 32, IntermediateSize = 64 }, HeadInnerDim = 32 };
        return [new("hs", hs), new("hst", hst)];
    }

    private static StudentDistillationOptions TinyOptions(string outputDir, int steps) => new()
    {
        TrainManifest = MaskedPretrainingTests.Demo("train.tsv"),
        ValidManifest = MaskedPretrainingTests.Demo("valid.tsv"),
        OutputDir = outputDir,
        Students = TinyStudents(),
        Trainer = new TrainerOptions { MaxSteps = steps, LearningRate = 2e-3, MaxGradientNorm = 5, CheckpointEvery = 10 },
        Loader = new AudioLoaderOptions { BatchSize = 4, MaxSampleSize = 16000, Seed = 4 },
        ValidLoader = new AudioLoaderOptions { BatchSize = 12, Shuffle = false, MaxSampleSize = 16000, Crop = CropMode.Start },
    };

    [SetUp]
    public void FlushFinalizers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Test]
    public void APretrainedTeacherGivesHsAndHstInOneCallAndARerunDoesNoWork()
    {
        using var dir = TestPaths.NewTempDirectory();
        torch.manual_seed(31);
        using var teacher = new DistillationTeacher(new SpeechEncoder(MaskedPretrainingTests.Tiny50Hz with { NumLayers = 4 }), new MaskedPredictionHead(48, 8, 16));
        teacher.Encoder.eval();
        var options = TinyOptions(dir.Path, 30);
        var signature = StudentDistillationPipeline.TeacherSignature(teacher);

        var first = StudentDistillationPipeline.RunAsync(teacher, options).GetAwaiter().GetResult();
        Assert.That(first.Students.Select(s => s.Record.Name), Is.EqualTo(new[] { "hs", "hst" }));
        foreach (var s in first.Students)
        {
            var r = s.Record;
            TestContext.Out.WriteLine($"{r.Name} ({r.Parameters:N0} parameters): regression {r.FirstRegression:F3} → {r.FinalRegression:F3}, KL {r.FirstKl:F4} → {r.FinalKl:F4}; " +
                $"held-out cosine per layer ({string.Join(", ", r.TeacherLayers)}): untrained {string.Join(", ", r.CosineBefore!.Select(c => c.ToString("F3")))}, trained {string.Join(", ", r.CosineAfter!.Select(c => c.ToString("F3")))}");
            Assert.That(s.Skipped, Is.False);
            Assert.That(s.StepsTrained, Is.EqualTo(30));
            Assert.That(r.FinalRegression, Is.LessThan(r.FirstRegression), $"{r.Name}: the regression loss falls");
            Assert.That(r.FinalKl!.Value, Is.LessThan(r.FirstKl!.Value), $"{r.Name}: the discriminative loss falls");
            for (var i = 0; i < r.TeacherLayers.Count; i++)
                Assert.That(r.CosineAfter![i], Is.GreaterThan(r.CosineBefore![i]), $"{r.Name} layer {r.TeacherLayers[i]}: beats the untrained student");
            using var loaded = DistillationStudent.Load(s.StudentDir);
            Assert.That(loaded.Config.CodeDim, Is.EqualTo(16), "the code projection of the discriminative loss is saved with it");
        }
        Assert.That(first.Students[1].Record.Parameters, Is.LessThan(first.Students[0].Record.Parameters), "HST is thinner than HS");
        var manifest = SelfDistillationManifest.TryLoad(dir.Path)!;
        Assert.That(manifest.Students.Select(s => s.Name), Is.EqualTo(new[] { "hs", "hst" }));
        Assert.That(manifest.Iterations, Is.Empty);

        var rerun = StudentDistillationPipeline.RunAsync(teacher, options).GetAwaiter().GetResult();
        Assert.That(rerun.Students.All(s => s.Skipped), Is.True);
        Assert.That(rerun.StepsTrained, Is.Zero);

        // Other teacher weights are another signature (the students would be distilled again).
        Assert.That(StudentDistillationPipeline.TeacherSignature(teacher), Is.EqualTo(signature));
        using (torch.no_grad())
            teacher.Encoder.parameters().First().mul_(HArnESS.Tensors.Scalars.Of(0.5));
        Assert.That(StudentDistillationPipeline.TeacherSignature(teacher), Is.Not.EqualTo(signature));
    }

    [Test]
    public void SelfDistillationContinuesIntoHsAndHstInTheSameRunFolderAndARerunSkipsEverything()
    {
        using var dir = TestPaths.NewTempDirectory();
        var options = SelfDistillationPipelineTests.TinyOptions(dir.Path, steps: 20) with
        {
            Iterations = 1,
            Students = TinyOptions("", 20) with { TrainManifest = "", ValidManifest = null, OutputDir = "", Students = TinyStudents(teacherLayers: 2) },
        };
        var first = SelfDistillationPipeline.RunAsync(options).GetAwaiter().GetResult();
        Assert.That(first.Students, Is.Not.Null);
        Assert.That(first.Students!.Students.Select(s => (s.Record.Name, s.Skipped, s.StepsTrained)), Is.EqualTo(new[] { ("hs", false, 20L), ("hst", false, 20L) }));
        foreach (var s in first.Students.Students)
        {
            var r = s.Record;
            TestContext.Out.WriteLine($"{r.Name} from the HL teacher: regression {r.FirstRegression:F3} → {r.FinalRegression:F3}, KL {r.FirstKl:F4} → {r.FinalKl:F4}, " +
                $"held-out cosine {string.Join(", ", r.CosineBefore!.Select(c => c.ToString("F3")))} → {string.Join(", ", r.CosineAfter!.Select(c => c.ToString("F3")))}");
            Assert.That(r.CosineBefore, Is.Not.Null, "the pipeline's held-out manifest is used");
            Assert.That(Path.GetFullPath(s.StudentDir), Does.StartWith(Path.GetFullPath(dir.Path)), "in the run folder");
        }
        var manifest = SelfDistillationManifest.TryLoad(dir.Path)!;
        Assert.That(manifest.Iterations, Has.Count.EqualTo(1));
        Assert.That(manifest.Students, Has.Count.EqualTo(2));

        var rerun = SelfDistillationPipeline.RunAsync(options).GetAwaiter().GetResult();
        Assert.That(rerun.Iterations.All(i => i.Skipped), Is.True);
        Assert.That(rerun.Students!.Students.All(s => s.Skipped), Is.True);
        Assert.That(rerun.StepsTrained, Is.Zero);
    }

    [Test]
    public void StudentsThatDoNotFitTheTeacherAreNamedBeforeAnyWork()
    {
        using var dir = TestPaths.NewTempDirectory();
        torch.manual_seed(32);
        using var teacher = new DistillationTeacher(new SpeechEncoder(MaskedPretrainingTests.Tiny50Hz with { NumLayers = 4 }));
        var bad = TinyOptions(dir.Path, 5) with { Students = [TinyStudents()[0], TinyStudents()[1] with { Config = TinyStudents()[1].Config with { TeacherLayers = [2, 9] } }] };
        var ex = Assert.Throws<HArnessValidationException>(() => StudentDistillationPipeline.RunAsync(teacher, bad))!;
        var names = ex.Errors.Select(e => e.Option).ToArray();
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, ex.Errors.Select(e => $"{e.Option}: {e.Message}")));
        Assert.That(names, Has.Some.StartsWith("Students[0] (hs).Loss.Discriminative"), "no codebook for the default discriminative loss");
        Assert.That(names, Has.Some.StartsWith("Students[1] (hst).Student.TeacherLayers[1]"), "a teacher layer the teacher lacks");
        Assert.That(Directory.EnumerateFileSystemEntries(dir.Path), Is.Empty, "nothing was written");

        var selfBad = SelfDistillationPipelineTests.TinyOptions(dir.Path) with
        {
            Students = new StudentDistillationOptions { Students = [new("hs", TinyStudents()[0].Config with { TeacherLayers = [7] })] },
        };
        var ex2 = Assert.Throws<HArnessValidationException>(() => SelfDistillationPipeline.RunAsync(selfBad))!;
        Assert.That(ex2.Errors.Select(e => e.Option), Has.Some.StartsWith("Students.Students[0].Config.TeacherLayers[0]"));
    }
}
