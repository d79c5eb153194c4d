using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Tests.Encoders;
using NUnit.Framework;

namespace HArnESS.Tests.Encoders;

public sealed class SpeechEncoderBuilderTests
{
    [Test]
    public void FluentCallsLandInTheConfig()
    {
        using var model = SpeechEncoder.Create()
            .WithCnnFrontEnd([new(8, 10, 5), new(8, 3, 2)], ConvNormMode.LayerNorm, bias: true)
            .WithTransformer(layers: 3, dim: 16, heads: 2, ffn: 24)
            .WithPositionalConv(kernel: 8, groups: 2)
            .PreLayerNorm()
            .WithDropouts(hidden: 0.0, attention: 0.05, layerDrop: 0.0)
            .WithMasking(0.5, length: 4, minMasks: 1)
            .AsModelType("wav2vec2")
            .Build();
        var c = model.Config;
        Assert.That(c.Cnn().Layers, Is.EqualTo(new ConvLayerSpec[] { new(8, 10, 5), new(8, 3, 2) }));
        Assert.That((c.Cnn().Norm, c.Cnn().Bias, c.NumLayers, c.HiddenSize, c.NumHeads, c.IntermediateSize), Is.EqualTo((ConvNormMode.LayerNorm, true, 3, 16, 2, 24)));
        Assert.That((c.PosConvKernel, c.PosConvGroups, c.LayerNormFirst, c.ModelType), Is.EqualTo((8, 2, true, "wav2vec2")));
        Assert.That((c.HiddenDropout, c.AttentionDropout, c.ActivationDropout, c.LayerDrop), Is.EqualTo((0.0, 0.05, 0.1, 0.0)));
        Assert.That((c.MaskTimeProb, c.MaskTimeLength, c.MaskTimeMinMasks), Is.EqualTo((0.5, 4, 1)));
        Assert.That(model.NumLayers, Is.EqualTo(3));
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.That(names, Does.Contain("feature_extractor.conv_layers.1.layer_norm.weight").And.Contain("feature_extractor.conv_layers.1.conv.bias")
            .And.Contain("encoder.layers.2.feed_forward.output_dense.weight").And.Contain("masked_spec_embed"));
    }

    [Test]
    public void FbankFrontEndUsesItsOwnNames()
    {
        using var model = SpeechEncoder.Create().WithFbankFrontEnd(melBins: 40, stack: 3, projectionDim: 24)
            .WithTransformer(1, 16, 4).WithPositionalConv(8, 4).WithMasking(0).Build();
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.That(names, Does.Contain("fbank_frontend.projection.weight").And.Contain("feature_projection.layer_norm.weight"));
        Assert.That(names.Any(n => n.StartsWith("feature_extractor.")), Is.False);
        Assert.That(names, Does.Not.Contain("masked_spec_embed"));
        Assert.That(model.Config.IntermediateSize, Is.EqualTo(64), "ffn defaults to 4 × dim");
    }

    [Test]
    public void BuilderStartsFromPresets()
    {
        var config = SpeechEncoder.Create().FromPreset("hubert-base").WithTransformer(2, 768, 12, 3072).BuildConfig();
        Assert.That(config, Is.EqualTo(EncoderPresets.HubertBase with { NumLayers = 2 }));
    }

    private static IEnumerable<TestCaseData> Invalid()
    {
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithTransformer(2, 100, 12)), "NumHeads").SetName("DimNotDivisibleByHeads");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithCnnFrontEnd([])), "FrontEnd.Layers").SetName("EmptyConvStack");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithCnnFrontEnd([new(512, 10, 5), new(512, 0, 2)])), "FrontEnd.Layers[1]").SetName("ZeroKernel");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithTransformer(-1, 768, 12)), "NumLayers").SetName("NegativeLayers");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithTransformer(2, 0, 12)), "HiddenSize").SetName("ZeroDim");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithTransformer(2, 768, 12, 0)), "IntermediateSize").SetName("ZeroFfn");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithPositionalConv(128, 10)), "PosConvGroups").SetName("PosConvGroupsMismatch");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithPositionalConv(0, 16)), "PosConvKernel").SetName("ZeroPosConvKernel");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithDropouts(attention: 1.5)), "AttentionDropout").SetName("DropoutOutOfRange");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithFbankFrontEnd(melBins: 0)), "FrontEnd.Input.Options.NumMelBins").SetName("ZeroMelBins");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithFbankFrontEnd(stack: -2)), "FrontEnd.Stack").SetName("NegativeStack");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.WithMasking(0.5, length: 0)), "MaskTimeLength").SetName("ZeroMaskLength");
        yield return new TestCaseData((Func<SpeechEncoderBuilder, SpeechEncoderBuilder>)(b => b.AsModelType("bert")), "ModelType").SetName("UnknownModelType");
    }

    [TestCaseSource(nameof(Invalid))]
    public void BuildRefusesInvalidValuesByName(Func<SpeechEncoderBuilder, SpeechEncoderBuilder> configure, string option)
    {
        var builder = configure(SpeechEncoder.Create());
        var e = Assert.Throws<HArnessValidationException>(() => builder.Build())!;
        Assert.That(e.OptionName, Is.EqualTo(option));
        Assert.That(e.Errors.Select(x => x.Option), Does.Contain(option));
        Assert.That(e.Message, Does.Contain(option.Split('[')[0]));
    }

    [Test]
    public void BuildersAreImmutable()
    {
        var b = SpeechEncoder.Create().WithTransformer(2, 32, 4).WithPositionalConv(16, 4);
        b.WithMasking(0);
        b.WithFbankFrontEnd();
        b.PreLayerNorm();
        var config = b.BuildConfig();
        Assert.That(config.MaskTimeProb, Is.EqualTo(0.05), "WithMasking on b returned a new builder");
        Assert.That(config.FrontEnd, Is.InstanceOf<CnnFrontEndConfig>());
        Assert.That(config.LayerNormFirst, Is.False);
        var changed = b.WithMasking(0);
        Assert.That(changed.Config.MaskTimeProb, Is.EqualTo(0));
        Assert.That(b.Config.MaskTimeProb, Is.EqualTo(0.05));
        using var model = b.Build();
        Assert.That(model.named_parameters().Any(p => p.name == "masked_spec_embed"), Is.True);
    }

    [Test]
    public void BuildReportsEveryProblemAtOnce()
    {
        var b = SpeechEncoder.Create().WithTransformer(-1, 100, 12, 0).WithDropouts(attention: 1.5).WithFbankFrontEnd(melBins: 0, stack: 0);
        var e = Assert.Throws<HArnessValidationException>(() => b.Build())!;
        Assert.That(e.Errors.Select(x => x.Option), Is.SupersetOf(new[]
        {
            "NumLayers", "NumHeads", "IntermediateSize", "PosConvGroups", "AttentionDropout", "FrontEnd.Input.Options.NumMelBins", "FrontEnd.Stack",
        }));
    }
}
