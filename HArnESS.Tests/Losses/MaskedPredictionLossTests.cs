using HArnESS.Distillation.Losses;
using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Losses;

/// <summary>Parity with a tiny torchaudio 0.13 <c>hubert_pretrain_model</c>: its transformer output, mask, labels,
/// front-end features and LogitGenerator weights are in the fixture with the reference losses.</summary>
public sealed class MaskedPredictionLossTests
{
    private const double Tol = 1e-5;

    private sealed record Batch(MaskedPredictionHead Head, Tensor X, Tensor Labels, Tensor Mask, Tensor Valid, Tensor Features, System.Text.Json.JsonElement Fx);

    private static Batch Load()
    {
        var fx = LossFixture.Load("masked_prediction");
        var head = new MaskedPredictionHead(fx.GetProperty("encoder_dim").GetInt32(), fx.GetProperty("classes").GetInt32(),
            fx.GetProperty("final_dim").GetInt32());
        var state = head.state_dict();
        using (no_grad())
        {
            state["final_proj.weight"].copy_(LossFixture.Array(fx, "final_proj_weight"));
            state["final_proj.bias"].copy_(LossFixture.Array(fx, "final_proj_bias"));
            state["label_embs_concat"].copy_(LossFixture.Array(fx, "label_embeddings"));
        }
        using var lens = LossFixture.Array(fx, "frame_lengths", ScalarType.Int64);
        using var mask = LossFixture.Array(fx, "mask", ScalarType.Int64);
        return new Batch(head, LossFixture.Array(fx, "x"), LossFixture.Array(fx, "labels", ScalarType.Int64), mask.to(ScalarType.Bool),
            FrameMasks.FromLengths(lens, fx.GetProperty("frames").GetInt32()), LossFixture.Array(fx, "features"), fx);
    }

    [Test]
    public void LossMatchesTorchaudioHubertPretrainModel()
    {
        var b = Load();
        using var scope = NewDisposeScope();
        var fx = b.Fx;
        using var sum = new MaskedPredictionLoss(new MaskedPredictionLossOptions { Reduction = LossReduction.Sum })
            .Compute(b.Head, b.X, b.Labels, b.Mask, b.Valid, b.Features);
        TestContext.Out.WriteLine($"sum: ours {LossFixture.Value(sum.Total):R}, torchaudio {LossFixture.Number(fx, "loss_sum"):R}");
        Assert.That(LossFixture.Value(sum.Total), Is.EqualTo(LossFixture.Number(fx, "loss_sum")).Within(Tol * LossFixture.Number(fx, "loss_sum")));
        Assert.That(LossFixture.Value(sum.Terms["feature_penalty"]), Is.EqualTo(LossFixture.Number(fx, "feature_penalty")).Within(1e-6));
        var nM = LossFixture.Number(fx, "masked_frames");
        var nU = LossFixture.Number(fx, "unmasked_frames");
        Assert.That(LossFixture.Value(sum.Terms["masked_ce"]), Is.EqualTo(LossFixture.Number(fx, "ce_masked_sum") / nM).Within(Tol));
        Assert.That(LossFixture.Value(sum.Terms["unmasked_ce"]), Is.EqualTo(LossFixture.Number(fx, "ce_unmasked_sum") / nU).Within(Tol));

        using var mean = new MaskedPredictionLoss().Compute(b.Head, b.X, b.Labels, b.Mask, b.Valid, b.Features);
        TestContext.Out.WriteLine($"mean: ours {LossFixture.Value(mean.Total):R}, reference {LossFixture.Number(fx, "loss_mean"):R}");
        Assert.That(LossFixture.Value(mean.Total), Is.EqualTo(LossFixture.Number(fx, "loss_mean")).Within(Tol));

        var half = new MaskedPredictionLossOptions { UnmaskedWeight = 0.5 };
        using var u = new MaskedPredictionLoss(half).Compute(b.Head, b.X, b.Labels, b.Mask, b.Valid, b.Features);
        TestContext.Out.WriteLine($"mean, unmasked 0.5: ours {LossFixture.Value(u.Total):R}, reference {LossFixture.Number(fx, "loss_mean_unmasked_half"):R}");
        Assert.That(LossFixture.Value(u.Total), Is.EqualTo(LossFixture.Number(fx, "loss_mean_unmasked_half")).Within(Tol));
        using var uSum = new MaskedPredictionLoss(half with { Reduction = LossReduction.Sum }).Compute(b.Head, b.X, b.Labels, b.Mask, b.Valid, b.Features);
        Assert.That(LossFixture.Value(uSum.Total), Is.EqualTo(LossFixture.Number(fx, "loss_sum_unmasked_half")).Within(Tol * LossFixture.Number(fx, "loss_sum_unmasked_half")));

        // the head's logits of the first masked frame are torchaudio's (its logit_m[0] with the positive put back)
        var logits = b.Head.forward(b.X);
        var first = b.Mask.logical_and(b.Valid).nonzero()[0];
        var ours = logits[first[0], first[1]];
        var refRow = LossFixture.Array(fx, "first_masked_frame_logits");
        Assert.That(ours.allclose(refRow, rtol: 0, atol: 1e-4), Is.True);
        b.Head.Dispose();
    }

    [Test]
    public void AccuracyMatchesTorchaudioArgmaxAndPaddingNeverCounts()
    {
        var b = Load();
        using var scope = NewDisposeScope();
        var logits = b.Head.forward(b.X);
        var acc = MaskedPredictionAccuracy.Compute(logits, b.Labels, b.Mask, b.Valid);
        Assert.That(acc.Count, Is.EqualTo(b.Fx.GetProperty("masked_frames").GetInt64()));
        Assert.That(acc.Value, Is.EqualTo(LossFixture.Number(b.Fx, "accuracy_masked")).Within(1e-12));

        // labels equal to the argmax: accuracy 1; masking padding frames changes nothing
        var perfect = logits.argmax(-1);
        var everything = ones(b.Mask.shape, dtype: ScalarType.Bool);
        var all = MaskedPredictionAccuracy.Compute(logits, perfect, everything, b.Valid);
        Assert.That(all.Value, Is.EqualTo(1.0));
        Assert.That(all.Count, Is.EqualTo(b.Valid.sum().item<long>()));
        Assert.That((acc + all).Count, Is.EqualTo(acc.Count + all.Count));
        var rest = MaskedPredictionAccuracy.Compute(logits, b.Labels, b.Mask, b.Valid, unmasked: true);
        Assert.That(rest.Count, Is.EqualTo(b.Fx.GetProperty("unmasked_frames").GetInt64()));

        // the loss ignores the padding frames' x, labels and mask
        var pad = b.Valid.logical_not();
        var x2 = b.X.masked_fill(pad.unsqueeze(-1), 1e3);
        var labels2 = b.Labels.masked_fill(pad, 12345);
        var mask2 = b.Mask.logical_or(pad);
        using var l1 = new MaskedPredictionLoss().Compute(b.Head, b.X, b.Labels, b.Mask, b.Valid);
        using var l2 = new MaskedPredictionLoss().Compute(b.Head, x2, labels2, mask2, b.Valid);
        Assert.That(LossFixture.Value(l2.Total), Is.EqualTo(LossFixture.Value(l1.Total)).Within(1e-6));
        b.Head.Dispose();
    }

    [Test]
    public void BadInputGetsNamedErrors()
    {
        using var scope = NewDisposeScope();
        var loss = new MaskedPredictionLoss();
        var logits = randn(2, 8, 4);
        var mask = ones(2, 8, dtype: ScalarType.Bool);
        Assert.That(() => loss.Compute(logits, zeros(2, 7, dtype: ScalarType.Int64), mask),
            Throws.ArgumentException.With.Message.Contains("Label length does not match the frames"));
        Assert.That(() => loss.Compute(logits, zeros(2, 8, dtype: ScalarType.Int64), ones(2, 8)),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("mask"));
        Assert.That(() => loss.Compute(logits, full(2, 8, 4L, dtype: ScalarType.Int64), mask), Throws.InstanceOf<ArgumentOutOfRangeException>());
        var ex = Assert.Throws<HArnessValidationException>(() => _ = new MaskedPredictionLoss(new MaskedPredictionLossOptions
        {
            MaskedWeight = 0, FeaturePenaltyWeight = -1,
        }));
        Assert.That(ex!.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "MaskedWeight", "FeaturePenaltyWeight" }));
        // no masked frame: a zero loss rather than a division by zero
        using var none = loss.Compute(logits, zeros(2, 8, dtype: ScalarType.Int64), zeros(2, 8, dtype: ScalarType.Bool));
        Assert.That(LossFixture.Value(none.Total), Is.EqualTo(0.0));
    }
}
