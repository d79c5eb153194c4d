using HArnESS.Distillation.Losses;
using HArnESS.Modules;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Losses;

public sealed class DiscriminativeLossTests
{
    private const double Tol = 1e-5;

    [Test]
    public void KlOfTeacherCodesMatchesTorchOverValidFrames()
    {
        var fx = LossFixture.Load("discriminative");
        using var scope = NewDisposeScope();
        var teacher = LossFixture.Array(fx, "teacher_last");
        var student = LossFixture.Array(fx, "student_last");
        using var codebook = new TeacherCodebook(LossFixture.Array(fx, "teacher_proj_weight"), LossFixture.Array(fx, "teacher_proj_bias"),
            LossFixture.Array(fx, "codebook"));
        var sw = LossFixture.Array(fx, "student_proj_weight");
        var sb = LossFixture.Array(fx, "student_proj_bias");
        var valid = FrameMasks.FromLengths(LossFixture.Array(fx, "lengths", ScalarType.Int64), fx.GetProperty("frames").GetInt32());

        // the teacher distribution of the first frame
        var probs = nn.functional.softmax(CodebookLogits.Compute(codebook.Project(teacher), codebook.Codebook, 0.1), -1)[0, 0];
        var refProbs = LossFixture.Array(fx, "teacher_probs_first_frame");
        Assert.That(probs.allclose(refProbs, rtol: 0, atol: 1e-6), Is.True);

        var projected = nn.functional.linear(student, sw, sb);
        var loss = new DiscriminativeLoss(new DiscriminativeLossOptions { Weight = 0.5 });
        using var r = loss.Compute(teacher, projected, codebook, valid);
        TestContext.Out.WriteLine($"kl: ours {LossFixture.Value(r.Terms["kl"]):R}, torch {LossFixture.Number(fx, "kl"):R}");
        Assert.That(LossFixture.Value(r.Terms["kl"]), Is.EqualTo(LossFixture.Number(fx, "kl")).Within(Tol));
        Assert.That(LossFixture.Value(r.Total), Is.EqualTo(0.5 * LossFixture.Number(fx, "kl")).Within(Tol));

        // through a projection module: same value, and gradient reaches only the student's projection
        var lin = nn.Linear(sw.shape[1], sw.shape[0]);
        using (no_grad())
        {
            lin.weight!.copy_(sw);
            lin.bias!.copy_(sb);
        }
        var tl = teacher.clone().requires_grad_(true);
        using var r2 = loss.Compute(tl, student, lin, codebook, valid);
        Assert.That(LossFixture.Value(r2.Terms["kl"]), Is.EqualTo(LossFixture.Number(fx, "kl")).Within(Tol));
        r2.Total.backward();
        Assert.That(lin.weight!.grad!.abs().sum().item<float>(), Is.GreaterThan(0f));
        Assert.That(tl.grad is null || tl.grad.abs().sum().item<float>() == 0f, Is.True, "the teacher side is a constant target");
    }

    [Test]
    public void PaddedFramesDoNotChangeTheKl()
    {
        var fx = LossFixture.Load("discriminative");
        using var scope = NewDisposeScope();
        var teacher = LossFixture.Array(fx, "teacher_last");
        using var codebook = new TeacherCodebook(LossFixture.Array(fx, "teacher_proj_weight"), null, LossFixture.Array(fx, "codebook"));
        var projected = randn(2, 6, 8, generator: new Generator(3));
        var valid = FrameMasks.FromLengths(tensor(new long[] { 6, 4 }), 6);
        var pad = valid.logical_not().unsqueeze(-1);
        var loss = new DiscriminativeLoss();
        using var a = loss.Compute(teacher, projected, codebook, valid);
        using var b = loss.Compute(teacher.masked_fill(pad, float.NaN), projected.masked_fill(pad, 1e4), codebook, valid);
        Assert.That(LossFixture.Value(b.Total), Is.EqualTo(LossFixture.Value(a.Total)).Within(1e-6));
    }

    [Test]
    public void HardLabelVariantMatchesTorchCrossEntropy()
    {
        var fx = LossFixture.Load("discriminative");
        using var scope = NewDisposeScope();
        var student = LossFixture.Array(fx, "student_last");
        var projected = nn.functional.linear(student, LossFixture.Array(fx, "student_proj_weight"), LossFixture.Array(fx, "student_proj_bias"));
        var learned = LossFixture.Array(fx, "learned_codebook");
        var labels = LossFixture.Array(fx, "labels", ScalarType.Int64);
        var valid = FrameMasks.FromLengths(LossFixture.Array(fx, "lengths", ScalarType.Int64), 6);
        var loss = new CodebookCrossEntropyLoss();
        using var r = loss.Compute(projected, learned, labels, valid);
        TestContext.Out.WriteLine($"hard-label ce: ours {LossFixture.Value(r.Terms["ce"]):R}, torch {LossFixture.Number(fx, "hard_label_ce"):R}");
        Assert.That(LossFixture.Value(r.Terms["ce"]), Is.EqualTo(LossFixture.Number(fx, "hard_label_ce")).Within(Tol));

        // the same through a masked-prediction head holding the projection and the learned codebook
        var head = new MaskedPredictionHead(7, 5, 8);
        var state = head.state_dict();
        using (no_grad())
        {
            state["final_proj.weight"].copy_(LossFixture.Array(fx, "student_proj_weight"));
            state["final_proj.bias"].copy_(LossFixture.Array(fx, "student_proj_bias"));
            state["label_embs_concat"].copy_(learned);
        }
        using var viaHead = loss.Compute(head, student, labels, valid);
        Assert.That(LossFixture.Value(viaHead.Total), Is.EqualTo(LossFixture.Number(fx, "hard_label_ce")).Within(Tol));
        // labels at padded frames are ignored, even out of range
        var junk = labels.masked_fill(valid.logical_not(), 999);
        using var r3 = loss.Compute(projected, learned, junk, valid);
        Assert.That(LossFixture.Value(r3.Total), Is.EqualTo(LossFixture.Value(r.Total)).Within(1e-7));
    }

    [Test]
    public void NamedErrorsForMisalignedLabelsAndMissingCodebook()
    {
        using var scope = NewDisposeScope();
        var loss = new CodebookCrossEntropyLoss();
        var logits = randn(2, 10, 5);
        var shortLabels = zeros(2, 9, dtype: ScalarType.Int64);
        Assert.That(() => loss.Compute(logits, shortLabels),
            Throws.ArgumentException.With.Message.Contains("Label length does not match the frames").And.Message.Contains("9").And.Property("ParamName").EqualTo("labels"));
        var outOfRange = full(2, 10, 5L, dtype: ScalarType.Int64);
        Assert.That(() => loss.Compute(logits, outOfRange), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[0, 5)"));

        var ex = Assert.Throws<HArnessDataException>(() => FrameLabels.Pad([new[] { 1, 2, 3 }, new[] { 4, 5 }], [3, 4], 4, utteranceIds: ["a", "b"]));
        Assert.That(ex!.Message, Does.Contain("'b'").And.Contain("2 labels but 4 frames"));
        using var padded = FrameLabels.Pad([new[] { 1, 2, 3 }, new[] { 4, 5, 6, 7, 8 }], [3, 4], 4, tolerance: 1, padValue: -1);
        Assert.That(padded.data<long>().ToArray(), Is.EqualTo(new long[] { 1, 2, 3, -1, 4, 5, 6, 7 }));

        var noCodebook = new Dictionary<string, Tensor> { ["final_proj.weight"] = randn(8, 10), ["final_proj.bias"] = randn(8) };
        var missing = Assert.Throws<HArnessCheckpointException>(() => TeacherCodebook.FromStateDict(noCodebook, source: "hubert.pt"));
        Assert.That(missing!.Message, Does.Contain("Missing codebook").And.Contain("label_embs_concat").And.Contain("hubert.pt"));
        Assert.That(missing.FilePath, Is.EqualTo("hubert.pt"));
        var noProj = new Dictionary<string, Tensor> { ["m.label_embs_concat"] = randn(5, 8) };
        Assert.That(() => TeacherCodebook.FromStateDict(noProj, "m."), Throws.InstanceOf<HArnessCheckpointException>().With.Message.Contains("m.final_proj.weight"));
        var misShaped = new Dictionary<string, Tensor> { ["label_embs_concat"] = randn(5, 7), ["final_proj.weight"] = randn(8, 10) };
        Assert.That(() => TeacherCodebook.FromStateDict(misShaped), Throws.InstanceOf<HArnessCheckpointException>().With.Message.Contains("Mis-shaped"));

        using var fromHead = TeacherCodebook.FromHead(new MaskedPredictionHead(10, 5, 8));
        Assert.That((fromHead.TeacherDim, fromHead.FinalDim, fromHead.NumClasses), Is.EqualTo((10, 8, 5)));
        var kl = new DiscriminativeLoss();
        Assert.That(() => kl.Compute(randn(2, 10, 10), randn(2, 10, 7), fromHead), Throws.ArgumentException.With.Message.Contains("8 features"));
        Assert.That(() => kl.Compute(randn(2, 10, 10), randn(2, 10, 8), null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("codebook"));
        Assert.Throws<HArnessValidationException>(() => _ = new DiscriminativeLoss(new DiscriminativeLossOptions { Temperature = 0 }));
    }
}
