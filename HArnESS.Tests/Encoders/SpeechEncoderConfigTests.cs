using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;

namespace HArnESS.Tests.Encoders;

public sealed class SpeechEncoderConfigTests
{
    [Test]
    public void EveryPresetRoundTripsThroughJson()
    {
        foreach (var name in EncoderPresets.Names)
        {
            var config = EncoderPresets.Get(name);
            var json = config.ToJson();
            var back = SpeechEncoderConfig.FromJson(json);
            Assert.That(back, Is.EqualTo(config), name);
            Assert.That(back.ToJson(), Is.EqualTo(json), name);
        }
    }

    [Test]
    public void JsonIsPlainAndReadable()
    {
        var json = EncoderPresets.TinyPreLn.ToJson();
        Assert.That(json, Does.Contain("\"Norm\": \"LayerNorm\"").And.Contain("\"type\": \"cnn\"").And.Contain("\"Kernel\": 10"));
        var partial = SpeechEncoderConfig.FromJson("{\"NumLayers\": 3, \"LayerNormFirst\": true}");
        Assert.That(partial, Is.EqualTo(new SpeechEncoderConfig { NumLayers = 3, LayerNormFirst = true }));
    }

    [Test]
    public void ChangedConfigsAreNotEqual()
    {
        Assert.That(EncoderPresets.HubertBase with { FrontEnd = new CnnFrontEndConfig { Layers = ConvStack.Wav2Vec2WithDim(256) } }, Is.Not.EqualTo(EncoderPresets.HubertBase));
        Assert.That(EncoderPresets.HubertBase with { FrontEnd = new CnnFrontEndConfig { Layers = ConvStack.Wav2Vec2.ToArray() } }, Is.EqualTo(EncoderPresets.HubertBase));
    }

    [Test]
    public void MalformedOrInvalidJsonIsRefusedByName()
    {
        var bad = Assert.Throws<HArnessConfigException>(() => SpeechEncoderConfig.FromJson("{\"NumLayers\": \"two\"}"))!;
        Assert.That(bad.Message, Does.Contain("NumLayers"));
        var invalid = Assert.Throws<HArnessValidationException>(() => SpeechEncoderConfig.FromJson("{\"HiddenSize\": 100, \"NumHeads\": 12}"))!;
        Assert.That(invalid.OptionName, Is.EqualTo("NumHeads"));
    }

    [Test]
    public void ConvLayerSpecLengthsMatchTorchaudioFormula()
    {
        var spec = new ConvLayerSpec(512, 10, 5);
        Assert.That(spec.OutputFrames(16000), Is.EqualTo((16000 - 10) / 5 + 1));
        Assert.That(spec.OutputFrames(9), Is.EqualTo(0));
        Assert.That(spec.OutputFrames(10), Is.EqualTo(1));
    }

    [Test]
    public void ConfigsWrittenBeforeFrontEndSectionsStillRead()
    {
        // harness_config as HArnESS 0.1 wrote it: the front-end as a bare enum beside flat fields.
        var cnn = SpeechEncoderConfig.FromJson("""
            {"FrontEnd": "Cnn", "ConvLayers": [{"Dim": 16, "Kernel": 10, "Stride": 5}, {"Dim": 16, "Kernel": 3, "Stride": 2},
             {"Dim": 16, "Kernel": 3, "Stride": 2}, {"Dim": 16, "Kernel": 2, "Stride": 2}], "ConvNorm": "LayerNorm", "ConvBias": true,
             "HiddenSize": 32, "NumLayers": 2, "NumHeads": 4, "IntermediateSize": 64, "PosConvKernel": 16, "PosConvGroups": 4,
             "LayerDrop": 0, "ModelType": "wav2vec2", "LayerNormFirst": true}
            """);
        Assert.That(cnn, Is.EqualTo(EncoderPresets.TinyPreLn));
        var fbank = SpeechEncoderConfig.FromJson("""{"FrontEnd": "Fbank", "FbankMelBins": 40, "FbankStack": 3, "FbankProjectionDim": 24}""");
        var section = (FbankFrontEndConfig)fbank.FrontEnd;
        Assert.That((section.Input.Options.NumMelBins, section.Stack, section.ProjectionDim), Is.EqualTo((40, 3, 24)));
        Assert.Throws<HArnessConfigException>(() => SpeechEncoderConfig.FromJson("""{"FrontEnd": {"type": "wavlet"}}"""));
    }
}
