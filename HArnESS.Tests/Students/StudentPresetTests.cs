using System.Text.Json;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;

namespace HArnESS.Tests.Students;

/// <summary>Student preset shapes and parameter counts against PyTorch modules built independently (torchaudio's
/// wav2vec2_model and s3prl's DistilHuBERT head/encoder structure; scripts/fixtures/make_student_fixtures.py).</summary>
public sealed class StudentPresetTests
{
    private static readonly Dictionary<string, (long Encoder, long Heads, long Total)> Reference = LoadReference();

    private static Dictionary<string, (long, long, long)> LoadReference()
    {
        var path = TestPaths.Fixtures("Students", "student_param_counts.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (
            p.Value.GetProperty("encoder").GetInt64(), p.Value.GetProperty("heads").GetInt64(), p.Value.GetProperty("total").GetInt64()));
    }

    private static DistillationStudentConfig Preset(string name) => name switch
    {
        "distilhubert/cnn" => StudentPresets.DistilHubert(),
        "distilhubert/fbank" => StudentPresets.DistilHubert(new FbankFrontEndConfig()),
        "distilhubert/subsampler" => StudentPresets.DistilHubert(new Conv1dSubsamplerConfig()),
        "deep-thin/cnn" => StudentPresets.DeepThin(),
        "deep-thin/fbank" => StudentPresets.DeepThin(new FbankFrontEndConfig()),
        "hs/cnn" => StudentPresets.Hs(),
        "hst/cnn" => StudentPresets.Hst(),
        "hst-k256/cnn" => StudentPresets.Hst(compactDim: 256),
        "layer-to-layer-lowrank64/cnn" => StudentPresets.DistilHubert() with
        {
            Mode = StudentHeadMode.LayerToLayer, TeacherLayers = [6, 12], StudentLayers = [1, 2], Projection = LayerProjectionKind.LowRank,
            ProjectionRank = 64,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static IEnumerable<string> Names() =>
        ["distilhubert/cnn", "distilhubert/fbank", "distilhubert/subsampler", "deep-thin/cnn", "deep-thin/fbank", "hs/cnn", "hst/cnn",
         "hst-k256/cnn", "layer-to-layer-lowrank64/cnn"];

    [TestCaseSource(nameof(Names))]
    public void AnalyticCountsMatchPyTorch(string name)
    {
        var config = Preset(name);
        var (encoder, heads, total) = Reference[name];
        Assert.That(config.CountParameters(includeHeads: false), Is.EqualTo(encoder), "encoder");
        Assert.That(config.CountHeadParameters(), Is.EqualTo(heads), "heads");
        Assert.That(config.CountParameters(), Is.EqualTo(total), "total");
    }

    [TestCase("distilhubert/cnn")]
    [TestCase("distilhubert/fbank")]
    [TestCase("deep-thin/cnn")]
    [TestCase("hst-k256/cnn")]
    [TestCase("layer-to-layer-lowrank64/cnn")]
    public void BuiltStudentsHaveThePyTorchCounts(string name)
    {
        using var student = new DistillationStudent(Preset(name));
        var (encoder, heads, total) = Reference[name];
        Assert.That(student.CountParameters(includeHeads: false), Is.EqualTo(encoder));
        Assert.That(student.CountParameters(), Is.EqualTo(total));
        Assert.That(student.parameters().Sum(p => p.numel()), Is.EqualTo(encoder + heads), "every parameter is the encoder's or a head's");
    }

    [Test]
    public void DistilHubertIsThePublishedShapeAnd23Point49MParameters()
    {
        var c = StudentPresets.DistilHubert();
        Assert.That((c.Encoder.NumLayers, c.Encoder.HiddenSize, c.Encoder.IntermediateSize, c.Encoder.NumHeads), Is.EqualTo((2, 768, 3072, 12)));
        Assert.That(c.Encoder.FrontEnd, Is.EqualTo(new CnnFrontEndConfig()));
        Assert.That(c.Mode, Is.EqualTo(StudentHeadMode.PredictionHeads));
        Assert.That(c.TeacherLayers, Is.EqualTo(new[] { 4, 8, 12 }));
        Assert.That(c.Encoder.HasMaskEmbedding, Is.False);
        // s3prl's DistillerModel (rebuilt in PyTorch from distiller/model.py) without its output layer is the published
        // 23.49M; HArnESS's encoder has one more LayerNorm over the 512 CNN channels (as torchaudio's and HF's feature
        // projection), and the heads are s3prl's Linear(768, 2304) + SplitLinear(768, 3, 768).
        var (s3prlEncoder, s3prlHeads, _) = Reference["s3prl-distilhubert"];
        Assert.That(s3prlEncoder, Is.EqualTo(23_491_200));
        Assert.That(Math.Round(s3prlEncoder / 1e6, 2), Is.EqualTo(23.49));
        Assert.That(c.CountParameters(includeHeads: false), Is.EqualTo(s3prlEncoder + 2 * 512));
        Assert.That(c.CountHeadParameters(), Is.EqualTo(s3prlHeads));
    }

    [Test]
    public void DeepThinAndShallowWideHaveWangEtAlsShapes()
    {
        var deep = StudentPresets.DeepThin();
        Assert.That((deep.Encoder.NumLayers, deep.Encoder.HiddenSize), Is.EqualTo((12, 480)));
        Assert.That(deep.Mode, Is.EqualTo(StudentHeadMode.LayerToLayer));
        Assert.That(deep.TeacherLayers, Is.EqualTo(Enumerable.Range(1, 12)));
        Assert.That(deep.ResolvedStudentLayers, Is.EqualTo(Enumerable.Range(1, 12)));
        Assert.That(deep.TargetDim, Is.EqualTo(768));
        var wide = StudentPresets.ShallowWide();
        Assert.That((wide.Encoder.NumLayers, wide.Encoder.HiddenSize, wide.Encoder.IntermediateSize), Is.EqualTo((2, 768, 3072)));
        Assert.That(wide.TeacherLayers, Is.EqualTo(new[] { 4, 8, 12 }));
    }

    [Test]
    public void HsAndHstAreParameterisedWithDocumentedDefaults()
    {
        var hs = StudentPresets.Hs();
        Assert.That((hs.Encoder.NumLayers, hs.Encoder.HiddenSize, hs.Encoder.IntermediateSize, hs.Encoder.NumHeads), Is.EqualTo((2, 768, 3072, 12)));
        var hst = StudentPresets.Hst();
        Assert.That((hst.Encoder.NumLayers, hst.Encoder.HiddenSize, hst.Encoder.IntermediateSize, hst.Encoder.NumHeads), Is.EqualTo((2, 384, 1536, 6)));
        Assert.That(hst.TeacherLayers, Is.EqualTo(new[] { 4, 8, 12 }));
        Assert.That(hst.TargetDim, Is.EqualTo(768));
        var big = StudentPresets.Hs(teacherDim: 1024, teacherLayers: 24, layers: 3);
        Assert.That((big.Encoder.NumLayers, big.Encoder.HiddenSize, big.Encoder.NumHeads), Is.EqualTo((3, 1024, 16)));
        Assert.That(big.TeacherLayers, Is.EqualTo(new[] { 8, 16, 24 }));
        var thin = StudentPresets.Hst(width: 256, ffn: 1024, compactDim: 128, predictLayers: [6, 12]);
        Assert.That((thin.Encoder.HiddenSize, thin.Encoder.IntermediateSize, thin.Encoder.NumHeads, thin.TargetDim), Is.EqualTo((256, 1024, 4, 128)));
        Assert.That(thin.TeacherLayers, Is.EqualTo(new[] { 6, 12 }));
        foreach (var c in new[] { hs, hst, big, thin }) Assert.DoesNotThrow(c.Validate);
    }

    [Test]
    public void FbankStudentHasSeventeenPercentFewerParametersThanTheCnnStudent()
    {
        // Wang et al. report -17% parameters for the fbank front-end on the same transformer; exact counts here.
        var cnn = StudentPresets.DistilHubert();
        var fbank = StudentPresets.DistilHubert(new FbankFrontEndConfig());
        Assert.That(cnn.CountParameters(includeHeads: false), Is.EqualTo(23_492_224));
        Assert.That(fbank.CountParameters(includeHeads: false), Is.EqualTo(19_374_208));
        Assert.That(cnn.CountParameters(includeHeads: false) - fbank.CountParameters(includeHeads: false),
            Is.EqualTo(new CnnFrontEndConfig().CountParameters() - new FbankFrontEndConfig().CountParameters()));
        var saving = 1.0 - (double)fbank.CountParameters(includeHeads: false) / cnn.CountParameters(includeHeads: false);
        Assert.That(saving, Is.EqualTo(0.1753).Within(5e-4));
        Assert.That(fbank.Encoder.FrontEnd.OutputFrames(160_000), Is.EqualTo(cnn.Encoder.FrontEnd.OutputFrames(160_000)).Within(1));
        Assert.That(EncoderCost.CountMacs(fbank.Encoder, 160_000), Is.LessThan(EncoderCost.CountMacs(cnn.Encoder, 160_000) / 2));
    }

    [Test]
    public void ConfigRoundTripsThroughJson()
    {
        foreach (var name in Names())
        {
            var c = Preset(name);
            Assert.That(DistillationStudentConfig.FromJson(c.ToJson()), Is.EqualTo(c), name);
        }
        var withCode = StudentPresets.Hst(compactDim: 256) with { CodeDim = 256 };
        Assert.That(DistillationStudentConfig.FromJson(withCode.ToJson()), Is.EqualTo(withCode));
        Assert.That(withCode.CountHeadParameters() - StudentPresets.Hst(compactDim: 256).CountHeadParameters(), Is.EqualTo(384L * 256 + 256));
        var e = Assert.Throws<HArnessConfigException>(() => DistillationStudentConfig.FromJson("{ \"TeacherLayers\": [4, ", "s.json"))!;
        Assert.That(e.Message, Does.Contain("s.json"));
    }
}
