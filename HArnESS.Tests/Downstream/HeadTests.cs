using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Upstream;
using HArnESS.Runtime;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Downstream;

public sealed class UpstreamCombinerTests
{
    [SetUp]
    public void Start() => HArnessRuntime.EnsureInitialized();

    [Test]
    public void WeightedSumStartsAsTheMeanAndReportsItsWeights()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        var hs = Enumerable.Range(0, 4).Select(_ => randn(2, 5, 8, generator: gen)).ToArray();
        using var sum = new WeightedLayerSum(4);
        var y = sum.Combine(hs);
        Assert.That(y.shape, Is.EqualTo(new long[] { 2, 5, 8 }));
        var mean = stack(hs, 0).mean([0]);
        Assert.That(y.allclose(mean, 1e-6, 1e-6), Is.True, "zero-initialised weights = 1/L each");
        Assert.That(sum.LayerWeights(), Is.EqualTo(new[] { 0.25, 0.25, 0.25, 0.25 }).Within(1e-7));
        // Push the weight of layer 2 up: softmax weights follow, and the output moves to that layer.
        using (no_grad()) sum.parameters().Single().copy_(tensor(new float[] { 0, 0, 10, 0 }));
        var w = sum.LayerWeights();
        Assert.That(w[2], Is.EqualTo(Math.Exp(10) / (Math.Exp(10) + 3)).Within(1e-6));
        Assert.That(w.Sum(), Is.EqualTo(1).Within(1e-6));
        Assert.That(sum.Combine(hs).allclose(hs[2], 1e-3, 1e-3), Is.True);
        Assert.That(() => sum.Combine(hs.Take(3).ToArray()), Throws.ArgumentException.With.Message.Contains("Expected 4 hidden states"));
    }

    [Test]
    public void LayerNormVariantNormalisesEachLayerFirst()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(4);
        var hs = new[] { randn(1, 3, 6, generator: gen) * 100, randn(1, 3, 6, generator: gen) };
        using var sum = new WeightedLayerSum(2, layerNorm: true);
        var expected = (nn.functional.layer_norm(hs[0], [6]) + nn.functional.layer_norm(hs[1], [6])) / 2;
        Assert.That(sum.Combine(hs).allclose(expected, 1e-5, 1e-5), Is.True);
    }

    [Test]
    public void SingleLayerPicksOneAndIsOneHot()
    {
        using var scope = NewDisposeScope();
        var hs = Enumerable.Range(0, 3).Select(i => full(1, 2, 4, (float)i)).ToArray();
        var last = new SingleLayer(3);
        Assert.That(last.Layer, Is.EqualTo(2));
        Assert.That(last.Combine(hs).eq(hs[2]).all().item<bool>(), Is.True);
        Assert.That(new SingleLayer(3, 1).LayerWeights(), Is.EqualTo(new double[] { 0, 1, 0 }));
        Assert.That(() => new SingleLayer(3, 3), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}

public sealed class PoolingTests
{
    [SetUp]
    public void Start() => HArnessRuntime.EnsureInitialized();

    [TestCase(PoolingKind.Mean, 8)]
    [TestCase(PoolingKind.Statistics, 16)]
    [TestCase(PoolingKind.SelfAttention, 8)]
    [TestCase(PoolingKind.AttentiveStatistics, 16)]
    public void PaddingNeverChangesTheResult(PoolingKind kind, int outDim)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(11);
        using var pool = PoolingLayer.Create(kind, 8, attentionDim: 6);
        Assert.That(pool.OutputDim, Is.EqualTo(outDim));
        var gen = new Generator(5);
        var a = randn(1, 7, 8, generator: gen);
        var b = randn(1, 10, 8, generator: gen);
        // Row 0 = a padded to 10 frames with junk (huge values and a NaN), row 1 = b unpadded.
        var junk = randn(1, 3, 8, generator: gen) * 1e4;
        junk[0, 1, 2] = tensor(float.NaN);
        var batch = cat([cat([a, junk], 1), b], 0);
        var mask = HArnESS.Downstream.Heads.PaddingMasks.FromLengths(tensor(new long[] { 7, 10 }), 10);
        var pooled = pool.forward(batch, mask);
        Assert.That(pooled.shape, Is.EqualTo(new long[] { 2, outDim }));
        Assert.That(pooled.isfinite().all().item<bool>(), Is.True);
        Assert.That(pooled[0].allclose(pool.forward(a, null)[0], 1e-5, 1e-5), Is.True, "padded row = the utterance alone");
        Assert.That(pooled[1].allclose(pool.forward(b, null)[0], 1e-5, 1e-5), Is.True);
    }

    [Test]
    public void MeanAndStatisticsPoolingHaveTheirFormulas()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3, 4, 5, 6, 100, 100 }, [1, 4, 2]);
        var mask = tensor(new[] { false, false, false, true }).unsqueeze(0);
        var mean = new MeanPooling(2).forward(x, mask);
        Assert.That(mean.data<float>().ToArray(), Is.EqualTo(new float[] { 3, 4 }));
        var stats = new StatisticsPooling(2).forward(x, mask).data<float>().ToArray();
        Assert.That(stats, Is.EqualTo(new[] { 3f, 4f, MathF.Sqrt(8f / 3), MathF.Sqrt(8f / 3) }).Within(1e-4));
        Assert.That(() => new MeanPooling(2).forward(x, ones(1, 4, dtype: ScalarType.Bool)), Throws.ArgumentException.With.Message.Contains("no valid frame"));
        Assert.That(() => new MeanPooling(2).forward(x, ones(1, 3, dtype: ScalarType.Bool)), Throws.ArgumentException.With.Message.Contains("[1, 4] padding mask"));
    }

    [Test]
    public void AttentionWeightsAreASoftmaxOverValidFramesOnly()
    {
        using var scope = NewDisposeScope();
        // Self-attention pooling with all-equal frames returns that frame whatever the weights are.
        var x = ones(2, 5, 4) * 3;
        using var sap = new SelfAttentionPooling(4);
        Assert.That(sap.forward(x, null).allclose(full(2, 4, 3f), 1e-5, 1e-5), Is.True);
        using var asp = new AttentiveStatisticsPooling(4, 3);
        var y = asp.forward(x, null);
        Assert.That(y[.., ..4].allclose(full(2, 4, 3f), 1e-5, 1e-5), Is.True, "weighted mean");
        Assert.That(y[.., 4..].max().item<float>(), Is.LessThan(1e-3f), "weighted std of a constant is ~0");
    }
}

public sealed class HeadShapeTests
{
    [SetUp]
    public void Start() => HArnessRuntime.EnsureInitialized();

    [Test]
    public void ClassifiersMapPooledVectorsToLogits()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 16);
        Assert.That(new ClassifierHead(16, 4).forward(x).shape, Is.EqualTo(new long[] { 3, 4 }));
        using var mlp = new ClassifierHead(16, 5, [32, 8], dropout: 0.2);
        Assert.That(mlp.forward(x).shape, Is.EqualTo(new long[] { 3, 5 }));
        Assert.That(mlp.parameters().Count(), Is.EqualTo(6), "three linear layers");
        Assert.That(() => new ClassifierHead(16, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void CtcHeadLossIsMinusLogOfTheSummedAlignments()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        using var head = new CtcHead(6, 3);
        head.eval();
        var x = randn(1, 4, 6);
        var lp = head.forward(x);
        Assert.That(lp.shape, Is.EqualTo(new long[] { 1, 4, 3 }));
        Assert.That(lp.exp().sum(-1).allclose(ones(1, 4), 1e-5, 1e-5), Is.True);
        // P("1 2") by enumerating the 3^4 frame paths.
        var p = lp[0].exp().to_type(ScalarType.Float64).data<double>().ToArray();
        double total = 0;
        for (var k = 0; k < 81; k++)
        {
            var path = new int[4];
            var z = k;
            double prob = 1;
            for (var t = 0; t < 4; t++) { path[t] = z % 3; z /= 3; prob *= p[t * 3 + path[t]]; }
            var labels = path.Where((v, t) => v != 0 && (t == 0 || v != path[t - 1])).ToArray();
            if (labels.SequenceEqual(new[] { 1, 2 })) total += prob;
        }
        var loss = head.Loss(lp, tensor(new long[] { 4 }), tensor(new long[] { 1, 2 }).unsqueeze(0), tensor(new long[] { 2 }));
        Assert.That(loss.item<float>(), Is.EqualTo(-Math.Log(total)).Within(1e-4));
    }

    [Test]
    public void MaskedBatchNormUsesOnlyValidFramesAsBatchNormWould()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(8);
        var x = randn(2, 6, 3, generator: gen);
        var mask = HArnESS.Downstream.Heads.PaddingMasks.FromLengths(tensor(new long[] { 6, 4 }), 6);
        var packed = cat([x[0], x[1, ..4]], 0); // the 10 valid frames
        using var ours = new MaskedBatchNorm1d(3);
        using var reference = nn.BatchNorm1d(3);
        ours.train();
        reference.train();
        var y = ours.forward(x, mask);
        var r = reference.forward(packed);
        Assert.That(cat([y[0], y[1, ..4]], 0).allclose(r, 1e-5, 1e-5), Is.True, "training output");
        ours.eval();
        reference.eval();
        Assert.That(ours.forward(x, mask)[0].allclose(reference.forward(x[0]), 1e-5, 1e-5), Is.True, "running statistics after one step");
        Assert.That(ours.named_buffers().Select(b => b.name), Is.EquivalentTo(new[] { "running_mean", "running_var" }));
    }

    [Test]
    public void SpeakerHeadEmbedsAndIgnoresPaddingInTrainAndEval()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(4);
        var config = new SpeakerEmbeddingConfig { InputDim = 8, Channels = 16, StatsChannels = 24, AttentionDim = 8, EmbeddingDim = 12 };
        using var head = new SpeakerEmbeddingHead(config);
        var gen = new Generator(6);
        var a = randn(1, 9, 8, generator: gen);
        var padded = cat([a, randn(1, 5, 8, generator: gen) * 50], 1);
        var mask = HArnESS.Downstream.Heads.PaddingMasks.FromLengths(tensor(new long[] { 9 }), 14);
        foreach (var training in new[] { true, false })
        {
            head.train(training);
            using var _ = no_grad();
            var alone = head.forward(a, null);
            var withPad = head.forward(padded, mask);
            Assert.That(alone.shape, Is.EqualTo(new long[] { 1, 12 }));
            Assert.That(withPad.allclose(alone, 1e-4, 1e-4), Is.True, $"training={training}: padding changed the embedding");
        }
        using var xv = new SpeakerEmbeddingHead(SpeakerEmbeddingConfig.XVector(8) with { Channels = 16, StatsChannels = 20, EmbeddingDim = 10 });
        xv.eval();
        Assert.That(xv.forward(randn(3, 12, 8), null).shape, Is.EqualTo(new long[] { 3, 10 }));
        var ex = Assert.Throws<HArnessValidationException>(() => new SpeakerEmbeddingHead(config with { Kernels = [4, 3], Dilations = [1] }));
        Assert.That(ex!.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "Kernels", "Dilations" }));
    }
}

public sealed class SpeakerLossTests
{
    [SetUp]
    public void Start() => HArnessRuntime.EnsureInitialized();

    [Test]
    public void AamSoftmaxMatchesTheTorchFormulaReference()
    {
        using var scope = NewDisposeScope();
        var f = DownstreamFixtures.Load("aam_softmax.json");
        int dim = f.GetProperty("dim").GetInt32(), classes = f.GetProperty("classes").GetInt32();
        var emb = tensor(f.GetProperty("embeddings").Doubles(), [7, dim]);
        var w = tensor(f.GetProperty("weight").Doubles(), [classes, dim]);
        var labels = tensor(f.GetProperty("labels").Ints().Select(i => (long)i).ToArray());
        foreach (var c in f.GetProperty("aam").EnumerateArray())
        {
            using var loss = new AamSoftmaxLoss(dim, classes, c.GetProperty("margin").GetDouble(), c.GetProperty("scale").GetDouble());
            loss.to(ScalarType.Float64);
            using (no_grad()) loss.Weight.copy_(w);
            var logits = loss.Logits(emb, labels);
            Assert.That(logits.data<double>().ToArray(), Is.EqualTo(c.GetProperty("logits").Doubles()).Within(1e-9), $"logits m={loss.Margin} s={loss.Scale}");
            Assert.That(loss.forward(emb, labels).item<double>(), Is.EqualTo(c.GetProperty("loss").GetDouble()).Within(1e-9), $"loss m={loss.Margin}");
        }
        using var soft = new SoftmaxLoss(dim, classes);
        soft.to(ScalarType.Float64);
        using (no_grad())
        {
            soft.Linear.weight!.copy_(tensor(f.GetProperty("softmax_weight").Doubles(), [classes, dim]));
            soft.Linear.bias!.copy_(tensor(f.GetProperty("softmax_bias").Doubles()));
        }
        Assert.That(soft.forward(emb, labels).item<double>(), Is.EqualTo(f.GetProperty("softmax_loss").GetDouble()).Within(1e-9));
    }

    [Test]
    public void AamSoftmaxTrainsEmbeddingsApart()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(9);
        var emb = new TorchSharp.Modules.Parameter(randn(20, 4));
        var labels = arange(20) % 4;
        using var loss = new AamSoftmaxLoss(4, 4, 0.2, 10);
        var opt = optim.Adam(loss.parameters().Append(emb).ToArray(), 0.1);
        double first = 0, last = 0;
        for (var step = 0; step < 25; step++)
        {
            using var s = NewDisposeScope();
            opt.zero_grad();
            var l = loss.forward(emb, labels);
            l.backward();
            opt.step();
            if (step == 0) first = l.item<float>();
            last = l.item<float>();
        }
        Assert.That(last, Is.LessThan(first / 2));
    }
}
