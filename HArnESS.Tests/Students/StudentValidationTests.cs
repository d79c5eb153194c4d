using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Students;

/// <summary>Named errors, found before any expensive step: a teacher layer the teacher lacks, a frame-rate mismatch,
/// a width mismatch, and head/target count mismatches.</summary>
public sealed class StudentValidationTests
{
    [Test]
    public void ATeacherLayerTheTeacherDoesNotHaveIsNamed()
    {
        var student = StudentPresets.DistilHubert() with { TeacherLayers = [4, 8, 13] };
        var e = Assert.Throws<HArnessValidationException>(() => student.ValidateAgainst(EncoderPresets.HubertBase))!;
        Assert.That(e.Errors.Select(x => x.Option), Is.EqualTo(new[] { "TeacherLayers[2]" }));
        Assert.That(e.Message, Does.Contain("13").And.Contain("12 layers"));
        Assert.DoesNotThrow(() => StudentPresets.DistilHubert().ValidateAgainst(EncoderPresets.HubertBase));
        Assert.DoesNotThrow(() => StudentPresets.DeepThin(new FbankFrontEndConfig()).ValidateAgainst(EncoderPresets.HubertBase));
    }

    [Test]
    public void AFrameRateMismatchIsNamedWithTheFrameCounts()
    {
        // 10 ms fbank frames without stacking against HuBERT's 20 ms CNN.
        var student = StudentPresets.DistilHubert(new FbankFrontEndConfig { Stack = 1 });
        var e = Assert.Throws<HArnessValidationException>(() => student.ValidateAgainst(EncoderPresets.HubertBase))!;
        Assert.That(e.Errors.Select(x => x.Option), Is.EqualTo(new[] { "FrameRate" }));
        Assert.That(e.Message, Does.Contain("student 98 frames, teacher 49"));
        Assert.DoesNotThrow(() => StudentPresets.DistilHubert(new Conv1dSubsamplerConfig()).ValidateAgainst(EncoderPresets.HubertBase));
    }

    [Test]
    public void EveryMismatchWithTheTeacherIsReportedAtOnce()
    {
        var student = StudentPresets.Hst(width: 256, teacherDim: 768, compactDim: 900, predictLayers: [0, 30], frontEnd: new FbankFrontEndConfig { Stack = 4 });
        var e = Assert.Throws<HArnessValidationException>(() => student.ValidateAgainst(EncoderPresets.HubertLarge))!;
        Assert.That(e.Errors.Select(x => x.Option), Is.EquivalentTo(new[] { "TeacherLayers[1]", "TeacherDim", "FrameRate" }));
        var wide = StudentPresets.Hst(width: 256, teacherDim: 1024, compactDim: 2000, teacherLayers: 24);
        var e2 = Assert.Throws<HArnessValidationException>(() => wide.ValidateAgainst(EncoderPresets.HubertLarge))!;
        Assert.That(e2.Errors.Select(x => x.Option), Is.EqualTo(new[] { "CompactDim" }));
    }

    [Test]
    public void InvalidStudentConfigsNameEveryOption()
    {
        var bad = new DistillationStudentConfig
        {
            Encoder = EncoderPresets.TinyPostLn with { NumHeads = 5 }, Mode = StudentHeadMode.LayerToLayer, TeacherLayers = [1, 2, 3],
            StudentLayers = [1, 9], TeacherDim = 0, HeadInnerDim = 8, Projection = LayerProjectionKind.LowRank, ProjectionRank = 0,
        };
        var e = Assert.Throws<HArnessValidationException>(bad.Validate)!;
        Assert.That(e.Errors.Select(x => x.Option), Is.SupersetOf(new[] { "Encoder.NumHeads", "StudentLayers", "TeacherDim", "HeadInnerDim", "ProjectionRank" }));
        var repeat = StudentPresets.DistilHubert() with { TeacherLayers = [4, 4] };
        Assert.That(Assert.Throws<HArnessValidationException>(repeat.Validate)!.Errors.Single().Option, Is.EqualTo("TeacherLayers"));
        var tooMany = new DistillationStudentConfig { Encoder = EncoderPresets.TinyPostLn, Mode = StudentHeadMode.LayerToLayer, TeacherLayers = [1, 2, 3] };
        Assert.That(Assert.Throws<HArnessValidationException>(tooMany.Validate)!.Errors.Single().Option, Is.EqualTo("StudentLayers"));
        Assert.Throws<HArnessValidationException>(() => new DistillationStudent(bad));
    }

    [Test]
    public void HeadAndTargetCountsMustMatch()
    {
        var config = new DistillationStudentConfig { Encoder = EncoderPresets.TinyPostLn with { MaskTimeProb = 0 }, TeacherLayers = [1, 2], TeacherDim = 32 };
        using var student = new DistillationStudent(config);
        using var wave = zeros(1, 1600);
        using var output = student.Forward(wave);
        using var one = zeros(1, output.Predictions[0].shape[1], 32);
        var e = Assert.Throws<ArgumentException>(() => output.Align([one]))!;
        Assert.That(e.ParamName, Is.EqualTo("targets"));
        Assert.That(e.Message, Does.Contain("2 heads").And.Contain("1 targets"));
        using var wrongWidth = zeros(1, output.Predictions[0].shape[1], 16);
        Assert.That(Assert.Throws<ArgumentException>(() => output.Align([wrongWidth, wrongWidth]))!.Message, Does.Contain("[1, frames, 32]"));
        using var twiceAsMany = zeros(1, 2 * output.Predictions[0].shape[1], 32);
        Assert.That(Assert.Throws<ArgumentException>(() => output.Align([twiceAsMany, twiceAsMany]))!.Message, Does.Contain("Frame-rate mismatch"));
    }

    [Test]
    public void TheTeacherRefusesLayersItDoesNotHave()
    {
        using var teacher = new DistillationTeacher(new SpeechEncoder(EncoderPresets.TinyPostLn), source: "tiny.pt");
        using var wave = zeros(1, 1600);
        var e = Assert.Throws<HArnessConfigException>(() => teacher.Forward(wave, null, [1, 3]))!;
        Assert.That(e.OptionName, Is.EqualTo("TeacherLayers"));
        Assert.That(e.Message, Does.Contain("Teacher layer 3").And.Contain("tiny.pt").And.Contain("2 layers"));
        using var ok = teacher.Forward(wave, null, [0, 2]);
        Assert.That(ok.HiddenStates, Has.Count.EqualTo(3));
        Assert.That(teacher.Encoder.training, Is.True, "the teacher's training flag is restored");
    }
}

/// <summary>The discriminative loss on a teacher loaded from a fairseq HuBERT checkpoint with its codebook.</summary>
public sealed class StudentDiscriminativeLossTests
{
    [Test]
    public void TheLoadedTeachersCodebookDrivesTheDiscriminativeLoss()
    {
        using var teacher = DistillationTeacher.Load(TestPaths.Fixtures("Students", "fairseq_hubert_tiny.pt"));
        using var codebook = teacher.GetCodebook();
        var config = new DistillationStudentConfig
        {
            Encoder = EncoderPresets.TinyPostLn with { MaskTimeProb = 0 }, TeacherLayers = [1, 2], TeacherDim = 32,
        };
        Assert.DoesNotThrow(() => config.ValidateAgainst(teacher.Config));
        using (var without = new DistillationStudent(config))
            Assert.That(Assert.Throws<HArnessConfigException>(() => without.CheckCodebook(codebook))!.OptionName, Is.EqualTo("CodeDim"));
        using (var wrong = new DistillationStudent(config with { CodeDim = 16 }))
            Assert.That(Assert.Throws<HArnessConfigException>(() => wrong.CheckCodebook(codebook))!.Message, Does.Contain("16").And.Contain("8 wide"));
        using var student = new DistillationStudent(config with { CodeDim = codebook.FinalDim });
        Assert.DoesNotThrow(() => student.CheckCodebook(codebook));
        var projection = student.CodeProjection!;
        using var g = new TorchSharp.torch.Generator(4);
        using var wave = randn(2, 3200, generator: g) * 0.1;
        using var lengths = tensor(new long[] { 3200, 2400 });
        using var t = teacher.Forward(wave, lengths, config.TeacherLayers);
        using var s = student.Forward(wave, lengths);
        using var loss = new HArnESS.Distillation.Losses.DiscriminativeLoss().Compute(t.LastHiddenState, s.Encoder.LastHiddenState, projection, codebook, s.ValidFrames);
        var kl = loss.Terms["kl"].item<float>();
        Assert.That(float.IsFinite(kl) && kl > 0, $"KL {kl}");
        loss.Total.backward();
        Assert.That(projection.parameters().First().grad, Is.Not.Null);
        using var dir = TestPaths.NewTempDirectory();
        student.Save(dir.Path);
        using var loaded = DistillationStudent.Load(dir.Path);
        Assert.That(loaded.CodeProjection!.parameters().First().allclose(projection.parameters().First(), rtol: 0, atol: 0));
    }
}
