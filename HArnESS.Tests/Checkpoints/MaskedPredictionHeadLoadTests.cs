using System.Text.Json;
using HArnESS.Checkpoints;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Checkpoints;

/// <summary>fairseq HuBERT checkpoints' final_proj and label_embs_concat load into MaskedPredictionHead (fixture:
/// scripts/fixtures/make_student_fixtures.py, a tiny fairseq-style torch.save with HuBERT's logits as reference).</summary>
public sealed class MaskedPredictionHeadLoadTests
{
    private static string Fixture(string name) => TestPaths.Fixtures("Students", name);

    [Test]
    public void TheFairseqHeadIsKeptBesideTheEncoderWeights()
    {
        using var contents = CheckpointLoader.LoadStateDict(Fixture("fairseq_hubert_tiny.pt"));
        Assert.That(contents.Layout, Is.EqualTo(CheckpointLayout.Fairseq));
        Assert.That(contents.HeadStateDict.Keys.Order(), Is.EqualTo(new[] { "final_proj.bias", "final_proj.weight", "label_embs_concat" }));
        Assert.That(contents.HeadStateDict["label_embs_concat"].shape, Is.EqualTo(new[] { 10L, 8 }));
        Assert.That(contents.IgnoredKeys, Does.Contain("label_embs_concat"), "the encoder still reports them as ignored heads");
        Assert.That(contents.StateDict.Keys, Has.None.Contains("final_proj"));
    }

    [Test]
    public void LoadWithHeadGivesHubertsLogits()
    {
        var (encoder, head, report) = SpeechEncoder.LoadWithHead(Fixture("fairseq_hubert_tiny.pt"));
        using var _e = encoder;
        using var _h = head;
        Assert.That(report.IsClean);
        Assert.That(head, Is.Not.Null);
        Assert.That((head!.Dim, head.FinalDim, head.NumClasses), Is.EqualTo((32, 8, 10)));
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture("fairseq_hubert_tiny_expected.json")));
        var x = doc.RootElement.GetProperty("input").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var want = doc.RootElement.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        using var input = tensor(x).reshape(5, 32);
        using var logits = head.forward(input);
        Assert.That(logits.shape, Is.EqualTo(new[] { 5L, 10 }));
        var got = logits.data<float>().ToArray();
        for (var i = 0; i < want.Length; i++) Assert.That(got[i], Is.EqualTo(want[i]).Within(1e-4), $"logit {i}");
    }

    [Test]
    public void ATeachersCodebookComesFromItsLoadedHead()
    {
        using var teacher = DistillationTeacher.Load(Fixture("fairseq_hubert_tiny.pt"));
        Assert.That(teacher.HasCodebook);
        using var codebook = teacher.GetCodebook();
        Assert.That((codebook.TeacherDim, codebook.FinalDim, codebook.NumClasses), Is.EqualTo((32, 8, 10)));
        using var contents = CheckpointLoader.LoadStateDict(Fixture("fairseq_hubert_tiny.pt"));
        Assert.That(codebook.Codebook.allclose(contents.HeadStateDict["label_embs_concat"], rtol: 0, atol: 0));
    }

    [Test]
    public void ATeacherWithoutACodebookIsNamedWhenTheDiscriminativeLossAsks()
    {
        using var dir = TestPaths.NewTempDirectory();
        using (var model = new SpeechEncoder(EncoderPresets.TinyPostLn)) model.Save(dir.Path);
        var (encoder, head, _) = SpeechEncoder.LoadWithHead(dir.Path);
        encoder.Dispose();
        Assert.That(head, Is.Null);
        using var teacher = DistillationTeacher.Load(dir.Path);
        Assert.That(teacher.HasCodebook, Is.False);
        var e = Assert.Throws<HArnessCheckpointException>(() => teacher.GetCodebook())!;
        Assert.That(e.Message, Does.Contain("Missing codebook").And.Contain(dir.Path).And.Contain("CodebookCrossEntropyLoss"));
    }

    [Test]
    public void IncompleteOrMultiCodebookHeadsAreRefusedByName()
    {
        using var w = zeros(8, 32);
        using var e = zeros(10, 8);
        using var e2 = zeros(10, 4);
        var onlyCodes = Assert.Throws<HArnessCheckpointException>(() =>
            MaskedPredictionHead.FromStateDict(new Dictionary<string, Tensor> { ["label_embs_concat"] = e }, source: "x.pt"))!;
        Assert.That(onlyCodes.Message, Does.Contain("no final_proj.weight").And.Contain("x.pt"));
        var two = Assert.Throws<HArnessCheckpointException>(() =>
            MaskedPredictionHead.FromStateDict(new Dictionary<string, Tensor> { ["final_proj.weight"] = w, ["label_embs_concat"] = e2 }))!;
        Assert.That(two.Message, Does.Contain("several label sets"));
        Assert.That(MaskedPredictionHead.FromStateDict(new Dictionary<string, Tensor>()), Is.Null);
    }

    [TestCase("final_proj.weight", CheckpointLayout.Fairseq, "final_proj.weight")]
    [TestCase("w2v_model.label_embs_concat", CheckpointLayout.Fairseq, "label_embs_concat")]
    [TestCase("hubert.label_embeddings_concat", CheckpointLayout.HuggingFace, "label_embs_concat")]
    [TestCase("encoder.layers.0.fc1.weight", CheckpointLayout.Fairseq, null)]
    public void HeadKeysAreMapped(string key, CheckpointLayout layout, string? expected) =>
        Assert.That(CheckpointKeyMap.MapHeadKey(key, layout), Is.EqualTo(expected));
}
