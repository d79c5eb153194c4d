using System.Text.Json;
using HArnESS.Encoders;
using NUnit.Framework;

namespace HArnESS.Tests.Encoders;

/// <summary>Preset shapes against torchaudio 0.13's factories (fixture from scripts/fixtures/preset_param_counts.py).</summary>
public sealed class EncoderPresetTests
{
    private static readonly Dictionary<string, (long Params, long? Macs)> Reference = LoadReference();

    private static Dictionary<string, (long, long?)> LoadReference()
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Encoders", "preset_param_counts.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (
            p.Value.GetProperty("params").GetInt64(),
            p.Value.TryGetProperty("macs_16000", out var m) ? m.GetInt64() : (long?)null));
    }

    private static IEnumerable<string> ReferencedPresets() =>
        ["hubert-base", "hubert-large", "hubert-xlarge", "wav2vec2-base", "wav2vec2-large", "wav2vec2-large-lv60",
         "xls-r-300m", "xls-r-1b", "xls-r-2b", "mhubert-147", "distilhubert", "tiny-post-ln", "tiny-pre-ln"];

    [TestCaseSource(nameof(ReferencedPresets))]
    public void AnalyticParameterCountMatchesTorchaudio(string preset)
    {
        var config = EncoderPresets.Get(preset);
        Assert.That(EncoderCost.CountParameters(config, includeMaskEmbedding: false), Is.EqualTo(Reference[preset].Params));
        Assert.That(EncoderCost.CountParameters(config), Is.EqualTo(Reference[preset].Params + config.HiddenSize),
            "HF models add masked_spec_embed [hidden]");
    }

    [TestCase("hubert-base")]
    [TestCase("distilhubert")]
    [TestCase("tiny-post-ln")]
    [TestCase("tiny-pre-ln")]
    public void BuiltModelHasTorchaudioParameterCountAndMacs(string preset)
    {
        using var model = SpeechEncoder.FromPreset(preset);
        var (parameters, macs) = Reference[preset];
        Assert.That(model.CountParameters(includeMaskEmbedding: false), Is.EqualTo(parameters));
        Assert.That(model.CountParameters(), Is.EqualTo(EncoderCost.CountParameters(model.Config)));
        Assert.That(model.CountMacs(16000), Is.EqualTo(macs), "MACs for 1 s of 16 kHz audio, measured by hooks in PyTorch");
    }

    [Test]
    public void HubertBaseHasThePublishedTorchaudioCount()
    {
        // torchaudio 0.13 documents hubert_base() at 94,370,944 parameters; the fixture must agree with it.
        Assert.That(Reference["hubert-base"].Params, Is.EqualTo(EncoderCost.CountParameters(EncoderPresets.HubertBase, false)));
        Assert.That(EncoderCost.CountParameters(EncoderPresets.HubertBase, false), Is.EqualTo(94_370_944));
    }

    [Test]
    public void FbankPresetsBuildAndCountMatches()
    {
        using var tiny = SpeechEncoder.FromPreset("tiny-fbank");
        Assert.That(tiny.CountParameters(), Is.EqualTo(EncoderCost.CountParameters(tiny.Config)));
        using var student = SpeechEncoder.FromPreset("fbank-distilhubert");
        Assert.That(student.CountParameters(), Is.EqualTo(EncoderCost.CountParameters(student.Config)));
        // The fbank front-end replaces the 4.2M-parameter CNN with an 80·2 → 512 projection.
        using var distil = SpeechEncoder.FromPreset("distilhubert");
        Assert.That(distil.CountParameters() - student.CountParameters(),
            Is.EqualTo(EncoderCost.CountParameters(EncoderPresets.DistilHubert) - EncoderCost.CountParameters(EncoderPresets.FbankDistilHubert)));
        Assert.That(student.CountParameters(), Is.LessThan(distil.CountParameters()));
        Assert.That(student.CountMacs(160_000), Is.LessThan(distil.CountMacs(160_000)));
    }

    [Test]
    public void EveryPresetValidatesAndUnknownNamesAreRefused()
    {
        foreach (var name in EncoderPresets.Names) Assert.DoesNotThrow(() => EncoderPresets.Get(name).Validate(), name);
        var e = Assert.Throws<HArnessConfigException>(() => EncoderPresets.Get("hubert-huge"))!;
        Assert.That(e.Message, Does.Contain("hubert-huge").And.Contain("hubert-base"));
    }

    [TestCase("hubert-base", 49)]
    [TestCase("tiny-fbank", 49)]
    public void OutputFramesFollowTheFrontEnd(string preset, long framesPerSecond)
    {
        // CNN: floor((16000 - 400) / 320) + 1 = 49; fbank: (1 + (16000 - 400) / 160) / 2 = 98 / 2 = 49.
        Assert.That(EncoderCost.OutputFrames(EncoderPresets.Get(preset), 16000), Is.EqualTo(framesPerSecond));
    }
}
