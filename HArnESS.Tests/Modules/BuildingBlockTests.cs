using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Modules;

public sealed class BuildingBlockTests
{
    [Test]
    public void WeightNormWeightIsGTimesVOverItsNormPerTap()
    {
        using var conv = new WeightNormConv1d(8, 4, 2, 2);
        using var _ = no_grad();
        var p = conv.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.That(p["weight_g"].shape, Is.EqualTo(new[] { 1L, 1L, 4L }));
        Assert.That(p["weight_v"].shape, Is.EqualTo(new[] { 8L, 4L, 4L }));
        using var w0 = conv.ComputeWeight();
        Assert.That(w0.allclose(p["weight_v"], 1e-5, 1e-6), Is.True, "g starts as ‖v‖, so the weight starts as v");
        p["weight_g"].copy_(tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 4));
        using var w = conv.ComputeWeight();
        for (var k = 0; k < 4; k++)
        {
            using var tap = w.select(2, k);
            Assert.That(tap.square().sum().sqrt().item<float>(), Is.EqualTo(k + 1).Within(1e-4));
        }
    }

    [Test]
    public void PositionalEmbeddingKeepsLengthForEvenAndOddKernels()
    {
        foreach (var k in new[] { 8, 7 })
        {
            using var pos = new ConvolutionalPositionalEmbedding(16, k, 4);
            using var x = randn(2, 13, 16);
            using var y = pos.forward(x);
            Assert.That(y.shape, Is.EqualTo(new[] { 2L, 13L, 16L }), $"kernel {k}");
        }
        Assert.Throws<HArnessConfigException>(() => new ConvolutionalPositionalEmbedding(16, 8, 3));
    }

    [Test]
    public void ConvFeatureExtractorLengthsMatchItsOutput()
    {
        using var fe = new ConvFeatureExtractor([new(4, 10, 5), new(4, 3, 2), new(4, 2, 2)], ConvNormMode.GroupNorm, bias: false);
        using var x = randn(2, 1000);
        using var lens = tensor(new long[] { 1000, 333 });
        var (y, l) = fe.Forward(x, lens);
        using (y)
        using (l)
        {
            Assert.That(y.shape, Is.EqualTo(new[] { 2L, fe.OutputFrames(1000), 4L }));
            Assert.That(l!.data<long>().ToArray(), Is.EqualTo(new[] { fe.OutputFrames(1000), fe.OutputFrames(333) }));
        }
        Assert.That(fe.named_parameters().Select(p => p.name),
            Is.EquivalentTo(new[] { "conv_layers.0.conv.weight", "conv_layers.0.layer_norm.weight", "conv_layers.0.layer_norm.bias",
                "conv_layers.1.conv.weight", "conv_layers.2.conv.weight" }));
        Assert.Throws<HArnessValidationException>(() => new ConvFeatureExtractor([], ConvNormMode.GroupNorm, false));
    }

    [Test]
    public void FbankFrontEndStacksConsecutiveFrames()
    {
        using var fe = new FbankFrontEnd(melBins: 3, stack: 2, outputDim: 5);
        using var _ = no_grad();
        using var x = randn(1, 7, 3);
        var (y, l) = fe.Project(x, tensor(new long[] { 7 }));
        Assert.That(y.shape, Is.EqualTo(new[] { 1L, 3L, 5L }));
        Assert.That(l!.item<long>(), Is.EqualTo(3));
        var p = fe.named_parameters().ToDictionary(q => q.name, q => q.parameter);
        // Output frame 1 is the projection of input frames 2 and 3 concatenated.
        using var stacked = cat([x[0, 2], x[0, 3]], 0);
        using var expected = nn.functional.linear(stacked, p["projection.weight"], p["projection.bias"]);
        Assert.That(y[0, 1].allclose(expected, 1e-5, 1e-6), Is.True);
    }

    [Test]
    public void MaskedPredictionLogitsAreCosinesOverTemperature()
    {
        using var head = new MaskedPredictionHead(dim: 6, numClasses: 5, finalDim: 4);
        using var _ = no_grad();
        using var h = randn(3, 6);
        using var logits = head.forward(h);
        Assert.That(logits.shape, Is.EqualTo(new[] { 3L, 5L }));
        var p = head.named_parameters().ToDictionary(q => q.name, q => q.parameter);
        Assert.That(p.Keys, Is.EquivalentTo(new[] { "final_proj.weight", "final_proj.bias", "label_embs_concat" }));
        using var proj = nn.functional.linear(h, p["final_proj.weight"], p["final_proj.bias"]);
        for (var i = 0; i < 3; i++)
            for (var k = 0; k < 5; k++)
            {
                using var cos = nn.functional.cosine_similarity(proj[i].unsqueeze(0), p["label_embs_concat"][k].unsqueeze(0), 1);
                Assert.That(logits[i, k].item<float>(), Is.EqualTo(cos.item<float>() / 0.1f).Within(1e-4));
            }
    }

    [Test]
    public void AttentionRefusesIndivisibleHeadsByName()
    {
        var e = Assert.Throws<HArnessConfigException>(() => new SelfAttention(10, 3))!;
        Assert.That(e.OptionName, Is.EqualTo("NumHeads"));
    }
}
