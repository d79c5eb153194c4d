using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Tests.Encoders;
using NUnit.Framework;

namespace HArnESS.Tests.Checkpoints;

[TestFixture]
public sealed class HfConfigJsonTests
{
    // The shape fields of facebook/hubert-base-ls960's config.json (HF field names as published).
    private const string HubertBaseConfig = """
    {
      "architectures": ["HubertModel"], "model_type": "hubert", "activation_dropout": 0.1, "apply_spec_augment": true,
      "attention_dropout": 0.1, "conv_bias": false, "conv_dim": [512, 512, 512, 512, 512, 512, 512],
      "conv_kernel": [10, 3, 3, 3, 3, 2, 2], "conv_stride": [5, 2, 2, 2, 2, 2, 2], "do_stable_layer_norm": false,
      "feat_extract_activation": "gelu", "feat_extract_dropout": 0.0, "feat_extract_norm": "group",
      "feat_proj_dropout": 0.1, "feat_proj_layer_norm": true, "hidden_act": "gelu", "hidden_dropout": 0.1,
      "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
      "layerdrop": 0.1, "mask_time_length": 10, "mask_time_prob": 0.05, "num_attention_heads": 12,
      "num_conv_pos_embedding_groups": 16, "num_conv_pos_embeddings": 128, "num_feat_extract_layers": 7,
      "num_hidden_layers": 12, "vocab_size": 32
    }
    """;

    [Test]
    public void ReadsThePublishedHubertBaseConfigAsTheHubertBasePreset()
    {
        var c = HfConfigJson.Parse(HubertBaseConfig);
        var p = EncoderPresets.HubertBase;
        Assert.That(c.Cnn().Layers, Is.EqualTo(p.Cnn().Layers));
        Assert.That((c.ModelType, c.Cnn().Norm, c.Cnn().Bias, c.LayerNormFirst), Is.EqualTo((p.ModelType, p.Cnn().Norm, p.Cnn().Bias, p.LayerNormFirst)));
        Assert.That((c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize), Is.EqualTo((p.HiddenSize, p.NumLayers, p.NumHeads, p.IntermediateSize)));
        Assert.That((c.PosConvKernel, c.PosConvGroups, c.LayerNormEps), Is.EqualTo((p.PosConvKernel, p.PosConvGroups, p.LayerNormEps)));
    }

    [Test]
    public void RefusesAnUnsupportedActivationByName()
    {
        var e = Assert.Throws<HArnessConfigException>(() => HfConfigJson.Parse("""{"model_type": "wav2vec2", "hidden_act": "relu"}"""))!;
        Assert.That(e.Message, Does.Contain("hidden_act 'relu'"));
    }

    [Test]
    public void RefusesConvListsOfDifferentLengths()
    {
        var e = Assert.Throws<HArnessConfigException>(() =>
            HfConfigJson.Parse("""{"conv_dim": [512, 512], "conv_kernel": [10], "conv_stride": [5, 2]}"""))!;
        Assert.That(e.Message, Does.Contain("lengths 2, 1, 2"));
    }

    [Test]
    public void RefusesADuplicateKeyByNameOfTheFile()
    {
        var e = Assert.Throws<HArnessConfigException>(() =>
            HfConfigJson.Parse("""{"hidden_size": 768, "hidden_size": 512}""", "dup/config.json"))!;
        Assert.That(e.Message, Does.Contain("dup/config.json"));
    }

    [Test]
    public void LoadsToARequestedDType()
    {
        var path = CheckpointFixtures.PathOf(Path.Combine("parity", "base_hf"));
        using var model = SpeechEncoder.Load(path, new CheckpointLoadOptions { DType = TorchSharp.torch.ScalarType.Float64 });
        Assert.That(model.state_dict().Values.All(t => t.dtype == TorchSharp.torch.ScalarType.Float64), Is.True);
        Assert.That(model.training, Is.False, "loaded teachers are in eval mode");
    }
}
