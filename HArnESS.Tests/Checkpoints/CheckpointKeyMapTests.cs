using HArnESS.Checkpoints;
using HArnESS.Modules;
using NUnit.Framework;

namespace HArnESS.Tests.Checkpoints;

[TestFixture]
public sealed class CheckpointKeyMapTests
{
    [TestCase("hubert.encoder.layers.3.attention.k_proj.weight", "encoder.layers.3.attention.k_proj.weight")]
    [TestCase("wav2vec2.feature_projection.layer_norm.bias", "feature_projection.layer_norm.bias")]
    [TestCase("encoder.pos_conv_embed.conv.parametrizations.weight.original0", "encoder.pos_conv_embed.conv.weight_g")]
    [TestCase("wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1", "encoder.pos_conv_embed.conv.weight_v")]
    [TestCase("masked_spec_embed", "masked_spec_embed")]
    [TestCase("lm_head.weight", null)]
    [TestCase("quantizer.codevectors", null)]
    public void HuggingFace(string key, string? expected) =>
        Assert.That(CheckpointKeyMap.MapKey(key, CheckpointLayout.HuggingFace), Is.EqualTo(expected));

    [TestCase("encoder.transformer.layers.0.feed_forward.output_dense.bias", "encoder.layers.0.feed_forward.output_dense.bias")]
    [TestCase("encoder.transformer.pos_conv_embed.conv.weight_g", "encoder.pos_conv_embed.conv.weight_g")]
    [TestCase("encoder.feature_projection.projection.weight", "feature_projection.projection.weight")]
    [TestCase("feature_extractor.conv_layers.0.layer_norm.weight", "feature_extractor.conv_layers.0.layer_norm.weight")]
    [TestCase("aux.weight", null)]
    public void TorchAudio(string key, string? expected) =>
        Assert.That(CheckpointKeyMap.MapKey(key, CheckpointLayout.TorchAudio), Is.EqualTo(expected));

    [TestCase("feature_extractor.conv_layers.0.0.weight", "feature_extractor.conv_layers.0.conv.weight")]
    [TestCase("feature_extractor.conv_layers.0.2.bias", "feature_extractor.conv_layers.0.layer_norm.bias")]
    [TestCase("feature_extractor.conv_layers.4.2.1.weight", "feature_extractor.conv_layers.4.layer_norm.weight")]
    [TestCase("post_extract_proj.weight", "feature_projection.projection.weight")]
    [TestCase("layer_norm.weight", "feature_projection.layer_norm.weight")]
    [TestCase("encoder.pos_conv.0.weight_v", "encoder.pos_conv_embed.conv.weight_v")]
    [TestCase("encoder.layers.11.self_attn.out_proj.bias", "encoder.layers.11.attention.out_proj.bias")]
    [TestCase("encoder.layers.2.self_attn_layer_norm.weight", "encoder.layers.2.layer_norm.weight")]
    [TestCase("encoder.layers.2.fc1.weight", "encoder.layers.2.feed_forward.intermediate_dense.weight")]
    [TestCase("w2v_encoder.w2v_model.encoder.layers.2.fc2.bias", "encoder.layers.2.feed_forward.output_dense.bias")]
    [TestCase("w2v_encoder.w2v_model.encoder.layer_norm.bias", "encoder.layer_norm.bias")]
    [TestCase("mask_emb", "masked_spec_embed")]
    [TestCase("label_embs_concat", null)]
    [TestCase("final_proj.weight", null)]
    [TestCase("w2v_encoder.proj.weight", null)]
    public void Fairseq(string key, string? expected) =>
        Assert.That(CheckpointKeyMap.MapKey(key, CheckpointLayout.Fairseq), Is.EqualTo(expected));

    [Test]
    public void DetectsEachLayout()
    {
        Assert.That(CheckpointKeyMap.DetectLayout(["encoder.layers.0.self_attn.q_proj.weight", "post_extract_proj.weight"]), Is.EqualTo(CheckpointLayout.Fairseq));
        Assert.That(CheckpointKeyMap.DetectLayout(["encoder.transformer.layers.0.attention.q_proj.weight"]), Is.EqualTo(CheckpointLayout.TorchAudio));
        Assert.That(CheckpointKeyMap.DetectLayout(["hubert.encoder.layers.0.attention.q_proj.weight", "hubert.feature_projection.projection.weight"]), Is.EqualTo(CheckpointLayout.HuggingFace));
    }

    [Test]
    public void ParsesFairseqConvFeatureLayers()
    {
        var layers = FairseqConfig.ParseConvLayers("[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]");
        Assert.That(layers, Is.EqualTo(new ConvLayerSpec[]
        {
            new(512, 10, 5), new(512, 3, 2), new(512, 3, 2), new(512, 3, 2), new(512, 3, 2), new(512, 2, 2), new(512, 2, 2),
        }));
        var e = Assert.Throws<HArnessCheckpointException>(() => FairseqConfig.ParseConvLayers("__import__('os')"))!;
        Assert.That(e.Message, Does.Contain("expected '['"));
    }

    [TestCase("encoder.layers.2147483646.fc1.weight")]
    [TestCase("encoder.layers.12345678901.fc1.weight")]
    [TestCase("encoder.layers.1024.fc1.weight")]
    [TestCase("encoder.layers.\u0663.fc1.weight")] // Arabic-Indic three: .NET's \d matches it, int.Parse does not
    [TestCase("feature_extractor.conv_layers.\u0967.0.weight")] // Devanagari one
    public void MapAllRefusesAModuleIndexThatIsNotASmallAsciiNumber(string key)
    {
        var entries = new Dictionary<string, int> { ["encoder.layers.0.fc1.weight"] = 0, [key] = 1 };
        var e = Assert.Throws<HArnessCheckpointException>(() => CheckpointKeyMap.MapAll(entries, CheckpointLayout.Fairseq, "x.pt"))!;
        Assert.That(e.Message, Does.Contain(key).And.Contain("1023"));
        Assert.That(e.FilePath, Is.EqualTo("x.pt"));
    }

    [Test]
    public void FairseqRulesMatchAsciiDigitsOnly()
    {
        Assert.That(CheckpointKeyMap.MapKey("encoder.layers.\u0663.fc1.weight", CheckpointLayout.Fairseq), Is.EqualTo("encoder.layers.\u0663.fc1.weight"));
        Assert.That(CheckpointKeyMap.MapKey("encoder.layers.1023.fc1.weight", CheckpointLayout.Fairseq), Is.EqualTo("encoder.layers.1023.feed_forward.intermediate_dense.weight"));
        Assert.That(CheckpointKeyMap.ParseModuleIndex("1023"), Is.EqualTo(1023));
        Assert.That(CheckpointKeyMap.ParseModuleIndex("1024"), Is.Null);
        Assert.That(CheckpointKeyMap.ParseModuleIndex("\u0663"), Is.Null);
        Assert.That(CheckpointKeyMap.ParseModuleIndex("-1"), Is.Null);
    }

    [Test]
    public void MapAllIgnoresIndicesOfHeadsItDrops()
    {
        // Ignored keys never size the model, so their numbers are not checked.
        var entries = new Dictionary<string, int> { ["encoder.layers.0.fc1.weight"] = 0, ["quantizer.vars.99999"] = 1 };
        var (mapped, ignored) = CheckpointKeyMap.MapAll(entries, CheckpointLayout.Fairseq);
        Assert.That(mapped.Keys, Is.EqualTo(new[] { "encoder.layers.0.feed_forward.intermediate_dense.weight" }));
        Assert.That(ignored, Is.EqualTo(new[] { "quantizer.vars.99999" }));
    }
}
