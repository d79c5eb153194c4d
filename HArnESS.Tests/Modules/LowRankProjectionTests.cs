using HArnESS.Distillation.Targets;
using HArnESS.Modules;
using HArnESS.Tests.Targets;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Modules;

public sealed class LowRankProjectionTests
{
    private static Tensor RandomWeight(int rows, int cols, long seed)
    {
        using var g = new Generator((ulong)seed);
        return torch.randn(rows, cols, generator: g);
    }

    /// <summary>Singular values from MathNet (an independent SVD), descending.</summary>
    private static double[] MathNetSingularValues(Tensor w)
    {
        using var d = w.to(ScalarType.Float64);
        var rows = (int)w.shape[0];
        var cols = (int)w.shape[1];
        var flat = d.data<double>().ToArray();
        var m = Matrix<double>.Build.Dense(rows, cols, (i, j) => flat[i * cols + j]);
        return m.Svd(computeVectors: false).S.ToArray();
    }

    [Test]
    public void TruncatedReconstructionErrorEqualsTheDiscardedSingularEnergy()
    {
        using var w = RandomWeight(24, 40, 3);
        var sigma = MathNetSingularValues(w);
        using var lr = LowRankProjection.FromWeight(w, rank: 7);
        Assert.That(lr.Rank, Is.EqualTo(7));
        using var dense = lr.ToDense();
        using var diff = (dense - w).to(ScalarType.Float64);
        var error = diff.square().sum().item<double>();
        var discarded = sigma.Skip(7).Sum(s => s * s);
        Assert.That(error, Is.EqualTo(discarded).Within(1e-4 * discarded));
        Assert.That(lr.DiscardedEnergy, Is.EqualTo(discarded).Within(1e-9 * discarded));
    }

    [Test]
    public void FullRankReproducesTheWeightAndFactorizeKeepsLinearOutputs()
    {
        using var linear = nn.Linear(32, 20);
        using var full = LowRankProjection.FromWeight(linear.weight!, linear.bias, rank: 20);
        using var dense = full.ToDense();
        Assert.That(dense.allclose(linear.weight!, rtol: 0, atol: 1e-5), Is.True);

        using var x = torch.randn(5, 32);
        using var factored = LowRankProjection.Factorize(linear, rank: 20);
        using (torch.no_grad())
        {
            using var expected = linear.forward(x);
            using var got = factored.forward(x);
            Assert.That(got.allclose(expected, rtol: 0, atol: 1e-5), Is.True);

            // truncated: the output error is exactly x (W - W_r)^T
            using var thin = LowRankProjection.Factorize(linear, rank: 4);
            using var r4 = LowRankProjection.FromWeight(linear.weight!, linear.bias, rank: 4);
            using var wr = r4.ToDense();
            using var err = thin.forward(x) - expected;
            using var predicted = x.mm((wr - linear.weight!).t());
            Assert.That(err.allclose(predicted, rtol: 0, atol: 1e-5), Is.True);
            var paramCount = thin.parameters().Sum(p => p.numel());
            Assert.That(paramCount, Is.EqualTo(32 * 4 + 4 * 20 + 20));
        }
    }

    [Test]
    public void EnergyThresholdPicksTheFewestSingularValuesReachingIt()
    {
        using var w = RandomWeight(16, 16, 9);
        var sigma = MathNetSingularValues(w);
        var energy = sigma.Select(s => s * s).ToArray();
        var total = energy.Sum();
        double cum = 0;
        var expected = 0;
        while (cum / total < 0.8) cum += energy[expected++];
        using var lr = LowRankProjection.FromWeight(w, energyThreshold: 0.8);
        Assert.That(lr.Rank, Is.EqualTo(expected));
    }

    [Test]
    public void GradientsFlowThroughBothFactors()
    {
        using var lr = new LowRankProjection(12, 3, 8);
        using var x = torch.randn(6, 12);
        using var y = lr.forward(x);
        using var loss = y.square().mean();
        loss.backward();
        Assert.That(lr.Down.weight!.grad, Is.Not.Null);
        Assert.That(lr.Up.weight!.grad, Is.Not.Null);
        Assert.That(lr.Down.weight!.grad!.abs().sum().item<float>(), Is.GreaterThan(0));
        Assert.That(lr.Up.weight!.grad!.abs().sum().item<float>(), Is.GreaterThan(0));
        Assert.That(lr.Up.bias!.grad!.abs().sum().item<float>(), Is.GreaterThan(0));
        var names = lr.state_dict().Keys.ToArray();
        Assert.That(names, Is.EquivalentTo(new[] { "down.weight", "up.weight", "up.bias" }));
    }

    [Test]
    public void FromPcaEncodesLikeTransformAndReconstructsLikeInverse()
    {
        using var x = SyntheticFeatures.Generate(11, 600, 16, 5, 2.0);
        using var pca = Pca.Fit(x, new PcaOptions { Components = 6 }, torch.CPU);
        using var lr = LowRankProjection.FromPca(pca);
        using (torch.no_grad())
        {
            using var code = lr.Encode(x);
            using var z = pca.Transform(x);
            Assert.That(code.allclose(z, rtol: 0, atol: 1e-4), Is.True);
            using var rec = lr.forward(x);
            using var inv = pca.InverseTransform(z);
            Assert.That(rec.allclose(inv, rtol: 0, atol: 1e-4), Is.True);
        }
        using var fromFeatures = LowRankProjection.FromFeatures(new TensorFeatureSource(x), varianceThreshold: 0.95);
        Assert.That(fromFeatures.Rank, Is.LessThanOrEqualTo(16));
    }

    [Test]
    public void BadRanksAreNamed()
    {
        using var w = RandomWeight(4, 6, 1);
        Assert.Throws<HArnessConfigException>(() => LowRankProjection.FromWeight(w, rank: 5));
        Assert.Throws<HArnessConfigException>(() => LowRankProjection.FromWeight(w));
        Assert.Throws<HArnessConfigException>(() => LowRankProjection.FromWeight(w, rank: 2, energyThreshold: 0.5));
        Assert.Throws<HArnessConfigException>(() => LowRankProjection.FromWeight(w, energyThreshold: 1.5));
        Assert.Throws<HArnessConfigException>(() => _ = new LowRankProjection(4, 0, 4));
    }
}
