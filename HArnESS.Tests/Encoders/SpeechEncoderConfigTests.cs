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
}
