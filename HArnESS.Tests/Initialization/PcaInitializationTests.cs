using HArnESS.Distillation.Initialization;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Initialization;

public sealed class PcaInitializationTests
{
    private static Tensor Effective(IReadOnlyDictionary<string, Tensor> s)
    {
        var v = s["encoder.pos_conv_embed.conv.weight_v"].to(ScalarType.Float64);
        var g = s["encoder.pos_conv_embed.conv.weight_g"].to(ScalarType.Float64);
        return v * (g / v.square().sum([0, 1], keepdim: true).sqrt());
    }

    /// <summary>An orthonormal basis [d, k] from the QR of a seeded Gaussian matrix.</summary>
    private static Tensor Basis(int d, int k, int seed)
    {
        var (q, _) = linalg.qr(randn(d, k, dtype: ScalarType.Float64, generator: new Generator((ulong)seed)));
        return q.to(ScalarType.Float32);
    }

    [Test]
    public void IdentityBasisCopiesEveryTensorExactly()
    {
        var teacher = SyntheticState.Make(8, 16, 3, seed: 4);
        using var scope = NewDisposeScope();
        try
        {
            var r = PcaInitialization.Project(teacher, eye(8));
            Assert.That(r.Skipped, Is.EqualTo(new[] { "final_proj.weight" }));
            foreach (var (key, value) in r.State)
            {
                Assert.That(value.shape, Is.EqualTo(teacher[key].shape), key);
                if (key.StartsWith("encoder.pos_conv_embed.conv.weight", StringComparison.Ordinal)) continue;
                Assert.That(value.allclose(teacher[key], rtol: 0, atol: 1e-6), Is.True, key);
            }
            Assert.That(Effective(r.State).allclose(Effective(teacher), rtol: 0, atol: 1e-6), Is.True, "positional conv's effective weight");
            Assert.That(r.State, Has.Count.EqualTo(teacher.Count - 1));

            // with a layer map, the student's layer 0 is the teacher's layer 2
            var mapped = PcaInitialization.Project(teacher, eye(8), [2]);
            Assert.That(mapped.State["encoder.layers.0.attention.v_proj.weight"].allclose(teacher["encoder.layers.2.attention.v_proj.weight"]), Is.True);
            Assert.That(mapped.State.Keys.Any(k => k.StartsWith("encoder.layers.1.", StringComparison.Ordinal)), Is.False);
        }
        finally { SyntheticState.Free(teacher); }
    }

    [Test]
    public void RankLimitedTeacherIsReproducedExactlyInTheThinSpace()
    {
        const int dT = 12, dS = 4, ffn = 20;
        var teacher = SyntheticState.Make(dT, ffn, 1, groups: 2, seed: 5);
        using var scope = NewDisposeScope();
        try
        {
            var p = Basis(dT, dS, 9);
            // make q_proj exactly rank-limited to the subspace: W = P A Pᵀ
            var a = randn(dS, dS, generator: new Generator(10));
            teacher["encoder.layers.0.attention.q_proj.weight"] = p.matmul(a).matmul(p.t());
            var r = PcaInitialization.Project(teacher, p);
            var s = r.State;
            Assert.That(s["encoder.layers.0.attention.q_proj.weight"].shape, Is.EqualTo(new long[] { dS, dS }));

            // teacher inputs in the span of P: x = P z
            var z = randn(7, dS, generator: new Generator(11));
            var x = z.matmul(p.t());
            var yT = nn.functional.linear(x, teacher["encoder.layers.0.attention.q_proj.weight"], teacher["encoder.layers.0.attention.q_proj.bias"]);
            var yS = nn.functional.linear(z, s["encoder.layers.0.attention.q_proj.weight"], s["encoder.layers.0.attention.q_proj.bias"]);
            Assert.That(yS.allclose(yT.matmul(p), rtol: 0, atol: 1e-4), Is.True, "student output = Pᵀ teacher output");
            var biasT = teacher["encoder.layers.0.attention.q_proj.bias"];
            var yNoBias = (yT - biasT).matmul(p).matmul(p.t());
            Assert.That(yNoBias.allclose(yT - biasT, rtol: 0, atol: 1e-4), Is.True, "a rank-limited map's output stays in the subspace");

            // the whole feed-forward block (KeepAll) is exact on the subspace too
            Tensor Ffn(IReadOnlyDictionary<string, Tensor> st, Tensor h) =>
                nn.functional.linear(nn.functional.gelu(nn.functional.linear(h, st["encoder.layers.0.feed_forward.intermediate_dense.weight"],
                        st["encoder.layers.0.feed_forward.intermediate_dense.bias"])),
                    st["encoder.layers.0.feed_forward.output_dense.weight"], st["encoder.layers.0.feed_forward.output_dense.bias"]);
            Assert.That(Ffn(s, z).allclose(Ffn(teacher, x).matmul(p), rtol: 0, atol: 1e-4), Is.True, "FFN");

            // the feature projection: student features = Pᵀ teacher features
            var conv = randn(3, 6, generator: new Generator(12));
            var fT = nn.functional.linear(conv, teacher["feature_projection.projection.weight"], teacher["feature_projection.projection.bias"]);
            var fS = nn.functional.linear(conv, s["feature_projection.projection.weight"], s["feature_projection.projection.bias"]);
            Assert.That(fS.allclose(fT.matmul(p), rtol: 0, atol: 1e-4), Is.True, "feature projection");

            // layer norm gains: γ_s[j] = Σ_k P[k,j]² γ[k]
            var gamma = teacher["encoder.layer_norm.weight"];
            var expected = (p.square() * gamma.unsqueeze(1)).sum(dim: 0);
            Assert.That(s["encoder.layer_norm.weight"].allclose(expected, rtol: 0, atol: 1e-5), Is.True);
            Assert.That(s["encoder.pos_conv_embed.conv.weight_v"].shape, Is.EqualTo(new long[] { dS, dS / 2, 4 }));
            Assert.That(Effective(s).allclose(s["encoder.pos_conv_embed.conv.weight_v"].to(ScalarType.Float64), rtol: 0, atol: 1e-5), Is.True,
                "weight_g is the norm of weight_v, so the effective weight is the projected blocks");
        }
        finally { SyntheticState.Free(teacher); }
    }

    [Test]
    public void BasisFromActivationsSpansRankLimitedActivations()
    {
        using var scope = NewDisposeScope();
        var truth = Basis(10, 3, 13);
        var acts = randn(200, 3, generator: new Generator(14)).matmul(truth.t()) + 0.5; // rank 3 plus a mean
        var p = PcaInitialization.BasisFromActivations(acts, 3);
        Assert.That(p.shape, Is.EqualTo(new long[] { 10, 3 }));
        Assert.That(p.t().matmul(p).allclose(eye(3), rtol: 0, atol: 1e-5), Is.True, "orthonormal");
        Assert.That(p.matmul(p.t()).allclose(truth.matmul(truth.t()), rtol: 0, atol: 1e-4), Is.True, "same subspace");
        Assert.That(PcaInitialization.BasisFromActivations(acts, 3).allclose(p), Is.True, "deterministic signs");
        var r = PcaInitialization.Project(SyntheticState.Make(10, 8, 1, groups: 1), p);
        Assert.That(r.State["encoder.layers.0.attention.q_proj.weight"].shape, Is.EqualTo(new long[] { 3, 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => PcaInitialization.BasisFromActivations(acts, 11));
    }

    [Test]
    public void FeedForwardWidthRules()
    {
        const int dT = 8, dS = 4, ffn = 16;
        var teacher = SyntheticState.Make(dT, ffn, 1, seed: 6);
        using var scope = NewDisposeScope();
        try
        {
            var p = Basis(dT, dS, 2);
            var top = PcaInitialization.Project(teacher, p, options: new PcaProjectionOptions { FfnRule = FfnWidthRule.TopRowsByNorm, StudentFfnDim = 6 });
            var wi = top.State["encoder.layers.0.feed_forward.intermediate_dense.weight"];
            Assert.That(wi.shape, Is.EqualTo(new long[] { 6, dS }));
            Assert.That(top.State["encoder.layers.0.feed_forward.output_dense.weight"].shape, Is.EqualTo(new long[] { dS, 6 }));
            // the kept rows are the 6 largest-norm rows of W P, in order
            var full = teacher["encoder.layers.0.feed_forward.intermediate_dense.weight"].matmul(p);
            var norms = full.norm(1).data<float>().ToArray();
            var kept = Enumerable.Range(0, ffn).OrderByDescending(j => norms[j]).Take(6).Order().ToArray();
            using var idx = tensor(kept.Select(k => (long)k).ToArray());
            Assert.That(wi.allclose(full.index_select(0, idx), rtol: 0, atol: 1e-5), Is.True);
            Assert.That(top.State["encoder.layers.0.feed_forward.intermediate_dense.bias"]
                .allclose(teacher["encoder.layers.0.feed_forward.intermediate_dense.bias"].index_select(0, idx)), Is.True);

            var q = Basis(ffn, 5, 3);
            var viaQ = PcaInitialization.Project(teacher, p, options: new PcaProjectionOptions { FfnRule = FfnWidthRule.Basis, FfnBasis = q });
            Assert.That(viaQ.State["encoder.layers.0.feed_forward.intermediate_dense.weight"].allclose(q.t().matmul(full), rtol: 0, atol: 1e-5), Is.True);
            Assert.That(viaQ.State["encoder.layers.0.feed_forward.output_dense.weight"].shape, Is.EqualTo(new long[] { dS, 5 }));
        }
        finally { SyntheticState.Free(teacher); }
    }

    [Test]
    public void BadBasesAndLayersGetNamedErrors()
    {
        var teacher = SyntheticState.Make(8, 16, 2, seed: 7);
        using var scope = NewDisposeScope();
        try
        {
            Assert.That(() => PcaInitialization.Project(teacher, randn(8, 4)),
                Throws.ArgumentException.With.Message.Contains("orthonormal").And.Property("ParamName").EqualTo("basis"));
            Assert.That(() => PcaInitialization.Project(teacher, eye(4, 8)), Throws.ArgumentException.With.Message.Contains("dStudent ≤ dTeacher"));
            Assert.That(() => PcaInitialization.Project(teacher, eye(10).narrow(1, 0, 4)),
                Throws.InstanceOf<HArnessCheckpointException>().With.Message.Contains("for a hidden width of 10"));
            Assert.That(() => PcaInitialization.Project(teacher, Basis(8, 3, 1)), Throws.ArgumentException.With.Message.Contains("not divisible by the positional conv's 2 groups"));
            Assert.That(() => PcaInitialization.Project(teacher, eye(8), [0, 2]), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("layerMap[1] = 2"));
            Assert.Throws<HArnessValidationException>(() => PcaInitialization.Project(teacher, eye(8), options: new PcaProjectionOptions { FfnRule = FfnWidthRule.TopRowsByNorm }));
        }
        finally { SyntheticState.Free(teacher); }
    }
}
