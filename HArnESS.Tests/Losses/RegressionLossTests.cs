using HArnESS.Distillation.Losses;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Losses;

public sealed class RegressionLossTests
{
    private const double Tol = 1e-5;

    private static (Tensor[] P, Tensor[] Y, Tensor Valid, System.Text.Json.JsonElement Fx) Load()
    {
        var fx = LossFixture.Load("regression");
        var p = fx.GetProperty("predictions").EnumerateArray().Select(e => LossFixture.Array(e)).ToArray();
        var y = fx.GetProperty("targets").EnumerateArray().Select(e => LossFixture.Array(e)).ToArray();
        using var lens = LossFixture.Array(fx, "lengths", ScalarType.Int64);
        return (p, y, FrameMasks.FromLengths(lens, fx.GetProperty("frames").GetInt32()), fx);
    }

    private static void Free((Tensor[] P, Tensor[] Y, Tensor Valid, System.Text.Json.JsonElement Fx) d)
    {
        foreach (var t in d.P.Concat(d.Y)) t.Dispose();
        d.Valid.Dispose();
    }

    [Test]
    public void DistilHubertTermsMatchTorchPerLayerOverValidFrames()
    {
        var d = Load();
        try
        {
            var weights = d.Fx.GetProperty("layer_weights").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var loss = new RegressionLoss(new RegressionLossOptions { LayerWeights = weights });
            using var r = loss.Compute(d.P, d.Y, d.Valid, [4, 8, 12]);
            Assert.That(r.Names, Is.EqualTo(new[] { "rec_l4", "sim_l4", "rec_l8", "sim_l8", "rec_l12", "sim_l12" }));
            var per = d.Fx.GetProperty("per_layer").EnumerateArray().ToArray();
            int[] ids = [4, 8, 12];
            for (var i = 0; i < 3; i++)
            {
                Assert.That(LossFixture.Value(r.Terms[$"rec_l{ids[i]}"]), Is.EqualTo(per[i].GetProperty("l1").GetDouble()).Within(Tol));
                Assert.That(LossFixture.Value(r.Terms[$"sim_l{ids[i]}"]), Is.EqualTo(per[i].GetProperty("cos").GetDouble()).Within(Tol));
            }
            TestContext.Out.WriteLine($"weighted total: ours {LossFixture.Value(r.Total):R}, torch {LossFixture.Number(d.Fx, "total_weighted"):R}");
            Assert.That(LossFixture.Value(r.Total), Is.EqualTo(LossFixture.Number(d.Fx, "total_weighted")).Within(Tol));

            using var mean = new RegressionLoss().Compute(d.P, d.Y, d.Valid);
            Assert.That(LossFixture.Value(mean.Total), Is.EqualTo(LossFixture.Number(d.Fx, "total_mean")).Within(Tol));
            Assert.That(mean.Terms.Keys, Does.Contain("rec_l1").And.Contain("sim_l3"));
        }
        finally { Free(d); }
    }

    [Test]
    public void UnpaddedDefaultsEqualS3prlsReduction()
    {
        var d = Load();
        try
        {
            using var l1 = new RegressionLoss().Compute(d.P, d.Y);
            TestContext.Out.WriteLine($"s3prl total: ours {LossFixture.Value(l1.Total):R}, s3prl formula {LossFixture.Number(d.Fx, "s3prl_unpadded_total"):R}");
            Assert.That(LossFixture.Value(l1.Total), Is.EqualTo(LossFixture.Number(d.Fx, "s3prl_unpadded_total")).Within(Tol));
            using var feats = LossFixture.Array(d.Fx, "features");
            using var pen = new RegressionLoss(new RegressionLossOptions { FeaturePenaltyWeight = 0.5 }).Compute(d.P, d.Y, features: feats);
            Assert.That(LossFixture.Value(pen.Terms["feat_pen"]), Is.EqualTo(LossFixture.Number(d.Fx, "feature_penalty")).Within(1e-6));
            Assert.That(LossFixture.Value(pen.Total), Is.EqualTo(LossFixture.Number(d.Fx, "s3prl_unpadded_total_featpen_half")).Within(Tol));
            using var mse = new RegressionLoss(RegressionLossOptions.Mse).Compute(d.P, d.Y);
            Assert.That(LossFixture.Value(mse.Total), Is.EqualTo(LossFixture.Number(d.Fx, "s3prl_unpadded_mse")).Within(Tol));
        }
        finally { Free(d); }
    }

    [Test]
    public void MseAndCosineMatchTorch()
    {
        var d = Load();
        try
        {
            var per = d.Fx.GetProperty("per_layer").EnumerateArray().ToArray();
            using var mse = new RegressionLoss(RegressionLossOptions.Mse).Compute(d.P, d.Y, d.Valid);
            using var cos = new RegressionLoss(RegressionLossOptions.Cosine).Compute(d.P, d.Y, d.Valid);
            Assert.That(mse.Names, Is.EqualTo(new[] { "rec_l1", "rec_l2", "rec_l3" }));
            Assert.That(cos.Names, Is.EqualTo(new[] { "sim_l1", "sim_l2", "sim_l3" }));
            for (var i = 0; i < 3; i++)
            {
                Assert.That(LossFixture.Value(mse.Terms[$"rec_l{i + 1}"]), Is.EqualTo(per[i].GetProperty("mse").GetDouble()).Within(Tol));
                Assert.That(LossFixture.Value(cos.Terms[$"sim_l{i + 1}"]), Is.EqualTo(per[i].GetProperty("cosine").GetDouble()).Within(Tol));
            }
            var meanMse = per.Average(p => p.GetProperty("mse").GetDouble());
            Assert.That(LossFixture.Value(mse.Total), Is.EqualTo(meanMse).Within(Tol));
        }
        finally { Free(d); }
    }

    [Test]
    public void PaddedValuesChangeNeitherLossNorGradient()
    {
        var d = Load();
        try
        {
            var loss = new RegressionLoss();
            var p1 = d.P.Select(p => p.clone().requires_grad_(true)).ToArray();
            using var a = loss.Compute(p1, d.Y, d.Valid);
            a.Total.backward();
            // overwrite every padded frame of predictions and targets with huge values and NaN
            var pad = d.Valid.logical_not().unsqueeze(-1);
            var p2 = d.P.Select(p => p.masked_fill(pad, 1e6).requires_grad_(true)).ToArray();
            var y2 = d.Y.Select(y => y.masked_fill(pad, float.NaN)).ToArray();
            using var b = loss.Compute(p2, y2, d.Valid);
            b.Total.backward();
            Assert.That(LossFixture.Value(b.Total), Is.EqualTo(LossFixture.Value(a.Total)).Within(1e-6));
            for (var i = 0; i < 3; i++)
            {
                Assert.That(p2[i].grad!.isfinite().all().item<bool>(), Is.True);
                Assert.That(p2[i].grad!.allclose(p1[i].grad!, rtol: 1e-5, atol: 1e-7), Is.True, $"layer {i} gradient");
                Assert.That(p1[i].grad!.masked_select(pad.expand_as(p1[i])).abs().max().item<float>(), Is.EqualTo(0f), "no gradient on padding");
            }
            foreach (var t in p1.Concat(p2).Concat(y2)) t.Dispose();
            pad.Dispose();
        }
        finally { Free(d); }
    }

    [Test]
    public void BadInputGetsNamedErrors()
    {
        using var p = randn(2, 5, 4);
        using var q = randn(2, 6, 4);
        var loss = new RegressionLoss();
        Assert.That(() => loss.Compute([p], [q]), Throws.ArgumentException.With.Property("ParamName").EqualTo("targets"));
        Assert.That(() => loss.Compute([p, p], [p]), Throws.ArgumentException.With.Message.Contains("2 predicted layers but 1 target"));
        using var badMask = ones(2, 4, dtype: ScalarType.Bool);
        Assert.That(() => loss.Compute([p], [p], badMask), Throws.ArgumentException.With.Property("ParamName").EqualTo("validFrames"));
        using var none = zeros(2, 5, dtype: ScalarType.Bool);
        Assert.That(() => loss.Compute([p], [p], none), Throws.ArgumentException.With.Message.Contains("No frame is valid"));
        var weighted = new RegressionLoss(new RegressionLossOptions { LayerWeights = [1.0, 2.0] });
        Assert.That(() => weighted.Compute([p], [p]), Throws.ArgumentException.With.Message.Contains("LayerWeights has 2"));
        var ex = Assert.Throws<HArnessValidationException>(() => _ = new RegressionLoss(new RegressionLossOptions
        {
            Reconstruction = ReconstructionKind.None, Similarity = SimilarityKind.None, SimilarityWeight = -1, LayerWeights = [-1.0],
        }));
        Assert.That(ex!.Errors.Select(e => e.Option), Is.SupersetOf(new[] { "Reconstruction", "SimilarityWeight", "LayerWeights[0]" }));
        using var lens = tensor(new long[] { 3, 9 });
        Assert.That(() => FrameMasks.FromLengths(lens, 5), Throws.ArgumentException.With.Message.Contains("[0, 5]"));
    }
}
