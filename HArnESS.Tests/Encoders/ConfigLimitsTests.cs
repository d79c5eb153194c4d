using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Runtime;
using NUnit.Framework;

namespace HArnESS.Tests.Encoders;

/// <summary>Configs are bounded (<see cref="EncoderLimits"/>), report every problem at once and name the file they
/// came from; nothing is allocated for a refused config.</summary>
public sealed class ConfigLimitsTests
{
    private static IEnumerable<TestCaseData> Unbounded()
    {
        yield return new TestCaseData(EncoderPresets.HubertBase with { NumLayers = 100_000 }, "NumLayers").SetName("HundredThousandLayers");
        yield return new TestCaseData(EncoderPresets.HubertBase with { IntermediateSize = 1_048_576 }, "IntermediateSize").SetName("HugeFfn");
        yield return new TestCaseData(EncoderPresets.HubertBase with { HiddenSize = 65_536, NumHeads = 16, PosConvGroups = 16 }, "HiddenSize").SetName("HugeWidth");
        yield return new TestCaseData(EncoderPresets.HubertBase with { NumHeads = 768 }, "NumHeads").SetName("TooManyHeads");
        yield return new TestCaseData(EncoderPresets.HubertBase with { PosConvKernel = 1 << 20 }, "PosConvKernel").SetName("HugePosConv");
        yield return new TestCaseData(EncoderPresets.HubertBase with { FrontEnd = new CnnFrontEndConfig { Layers = [new(999_999_999, 10, 5)] } }, "FrontEnd.Layers[0]").SetName("HugeConvChannels");
        yield return new TestCaseData(EncoderPresets.HubertBase with { FrontEnd = new CnnFrontEndConfig { Layers = Enumerable.Repeat(new ConvLayerSpec(8, 2, 1), 65).ToArray() } }, "FrontEnd.Layers").SetName("TooManyConvLayers");
        yield return new TestCaseData(EncoderPresets.HubertBase with { FrontEnd = new FbankFrontEndConfig { Input = new() { Options = HArnESS.Features.FbankOptions.Default80 with { NumMelBins = 100_000 } } } }, "FrontEnd.Input.Options.NumMelBins").SetName("HugeMelBins");
        yield return new TestCaseData(EncoderPresets.HubertBase with { FrontEnd = new Conv1dSubsamplerConfig { KernelSizes = [4] } }, "FrontEnd.KernelSizes[0]").SetName("EvenSubsamplerKernel");
        yield return new TestCaseData(EncoderPresets.HubertBase with { HiddenSize = 8192, NumHeads = 16, IntermediateSize = 32768, NumLayers = 256 }, "NumLayers").SetName("TooManyParameters");
        yield return new TestCaseData(EncoderPresets.HubertBase with { SampleRate = 0 }, "SampleRate").SetName("ZeroSampleRate");
        yield return new TestCaseData(EncoderPresets.TinyFbank with { SampleRate = 8000 }, "FrontEnd.Input.Options.Frame.SampleRate").SetName("FbankRateDisagrees");
    }

    [TestCaseSource(nameof(Unbounded))]
    public void OutOfRangeValuesAreRefusedBeforeAnythingIsBuilt(SpeechEncoderConfig config, string option)
    {
        var e = Assert.Throws<HArnessValidationException>(() => config.Validate())!;
        Assert.That(e.Errors.Select(x => x.Option), Does.Contain(option));
        Assert.Throws<HArnessValidationException>(() => new SpeechEncoder(config).Dispose());
    }

    [Test]
    public void EveryProblemIsReportedAtOnce()
    {
        var config = EncoderPresets.TinyPostLn with { HiddenSize = 0, NumLayers = -1, AttentionDropout = 2, MaskTimeLength = 0, ModelType = "bert" };
        var e = Assert.Throws<HArnessValidationException>(() => config.Validate())!;
        Assert.That(e.Errors.Select(x => x.Option), Is.SupersetOf(new[] { "HiddenSize", "NumLayers", "AttentionDropout", "MaskTimeLength", "ModelType" }));
        Assert.That(e.Message, Does.Contain("5 problems"));
    }

    [Test]
    public void ErrorsFromAConfigJsonNameTheFile()
    {
        var e = Assert.Throws<HArnessValidationException>(() =>
            HfConfigJson.Parse("""{"model_type": "hubert", "num_hidden_layers": 100000, "intermediate_size": 1048576}""", "/models/x/config.json"))!;
        Assert.That(e.Message, Does.Contain("/models/x/config.json").And.Contain("NumLayers").And.Contain("IntermediateSize"));
        var own = Assert.Throws<HArnessValidationException>(() => HfConfigJson.Parse(
            """{"harness_config": {"HiddenSize": -1}}""", "/models/y/config.json"))!;
        Assert.That(own.Message, Does.Contain("/models/y/config.json").And.Contain("HiddenSize"));
        var conv = Assert.Throws<HArnessValidationException>(() => HfConfigJson.Parse(
            """{"conv_dim": [999999999], "conv_kernel": [10], "conv_stride": [5]}""", "/models/z/config.json"))!;
        Assert.That(conv.Message, Does.Contain("/models/z/config.json").And.Contain("FrontEnd.Layers[0]"));
    }

    [Test]
    public void ErrorsFromAFairseqConfigNameTheFile()
    {
        var root = new Dictionary<object, object?>
        {
            ["cfg"] = new Dictionary<object, object?>
            {
                ["model"] = new Dictionary<object, object?> { ["_name"] = "hubert", ["conv_feature_layers"] = "[(999999999, 10, 5)]", ["encoder_layers"] = 100_000L },
            },
        };
        var e = Assert.Throws<HArnessValidationException>(() => FairseqConfig.TryRead(root, "/ckpt/hubert.pt"))!;
        Assert.That(e.Message, Does.Contain("/ckpt/hubert.pt").And.Contain("FrontEnd.Layers[0]").And.Contain("NumLayers"));
    }

    [Test]
    public void ShapesCannotImplyMoreThanTheyHold()
    {
        var shapes = new Dictionary<string, IReadOnlyList<long>>
        {
            ["feature_extractor.conv_layers.0.conv.weight"] = [512, 1, 10],
            ["feature_projection.projection.weight"] = [8192, 0],
            ["encoder.pos_conv_embed.conv.weight_v"] = [8192, 512, 128],
        };
        var e = Assert.Throws<HArnessCheckpointException>(() => ConfigInference.Infer(shapes, new CheckpointLoadOptions { NumHeads = 16 }, filePath: "f.safetensors"))!;
        Assert.That(e.Message, Does.Contain("feature_projection.projection.weight").And.Contain("[8192, 0]"));
        // An 11-digit layer index is not an index: the key does not make 2^31 layers (a strict load refuses it as unexpected).
        shapes["feature_projection.projection.weight"] = [8192, 512];
        shapes["encoder.layers.2147483646.final_layer_norm.weight"] = [8192];
        shapes["encoder.layers.٣.final_layer_norm.weight"] = [8192]; // Arabic-Indic digit: not an index either
        Assert.That(ConfigInference.Infer(shapes, new CheckpointLoadOptions { NumHeads = 16 }).NumLayers, Is.EqualTo(0));

        // 24 layers of width 1024 implied by two FFN weights and one layer index: the file holds 17M values, the
        // config needs 300M parameters. Refused, naming the option to pass.
        var small = new Dictionary<string, IReadOnlyList<long>>
        {
            ["feature_extractor.conv_layers.0.conv.weight"] = [512, 1, 10],
            ["feature_projection.projection.weight"] = [1024, 512],
            ["encoder.pos_conv_embed.conv.weight_v"] = [1024, 64, 128],
            ["encoder.layers.0.feed_forward.intermediate_dense.weight"] = [4096, 1024],
            ["encoder.layers.23.feed_forward.intermediate_dense.weight"] = [4096, 1024],
        };
        var big = Assert.Throws<HArnessCheckpointException>(() => ConfigInference.Infer(small))!;
        Assert.That(big.Message, Does.Contain("CheckpointLoadOptions.Config"));
    }

    [Test]
    public void ModuleConstructorsRefuseBadSizesByName()
    {
        HArnessRuntime.EnsureInitialized();
        Assert.Throws<HArnessValidationException>(() => new TransformerEncoder(32, 100_000, 4, 64, false, 16, 4, 0, 0, 0, 0).Dispose());
        Assert.Throws<HArnessValidationException>(() => new FeedForward(32, 1_048_576, 0, 0).Dispose());
        Assert.Throws<HArnessValidationException>(() => new FeatureProjection(-1, 32, 0).Dispose());
        Assert.Throws<HArnessValidationException>(() => new ConvFeatureExtractor([new(999_999_999, 10, 5)], ConvNormMode.GroupNorm, false).Dispose());
        Assert.Throws<HArnessValidationException>(() => new FbankFrontEnd(0, 2, 32).Dispose());
    }
}
