using HArnESS.Training;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Training;

public sealed class AdamWTests
{
    [Test]
    public void TwoUpdatesMatchTheAdamWFormulaComputedByHand()
    {
        using var p = tensor(new[] { 1.0f, -2.0f, 0.5f });
        var opt = new AdamW(new AdamWOptions { Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8 });
        opt.Add("p", p, new AdamWGroup("g", 0.1, 0.01));
        double[] x = [1.0, -2.0, 0.5], m = new double[3], v = new double[3];
        double[][] grads = [[0.3, -0.1, 2.0], [-0.2, 0.4, 1.0]];
        for (var t = 1; t <= 2; t++)
        {
            using var g = tensor(grads[t - 1].Select(d => (float)d).ToArray());
            opt.Step(new Dictionary<string, Tensor> { ["p"] = g }, lrFactor: 0.5);
            var lr = 0.05;
            for (var i = 0; i < 3; i++)
            {
                x[i] *= 1 - lr * 0.01;
                m[i] = 0.9 * m[i] + 0.1 * grads[t - 1][i];
                v[i] = 0.999 * v[i] + 0.001 * grads[t - 1][i] * grads[t - 1][i];
                x[i] -= lr / (1 - Math.Pow(0.9, t)) * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(0.999, t)) + 1e-8);
            }
        }
        Assert.That(p.data<float>().ToArray(), Is.EqualTo(x.Select(d => (float)d).ToArray()).Within(1e-6));
        Assert.That(opt.StepCount("p"), Is.EqualTo(2));
        opt.Dispose();
    }

    [Test]
    public void RestoredStateContinuesBitForBit()
    {
        using var a = tensor(new[] { 0.1f, 0.2f, -0.3f, 0.4f });
        using var b = a.clone();
        using var optA = new AdamW();
        optA.Add("w", a, new AdamWGroup("g", 1e-2, 0.1));
        using var g1 = tensor(new[] { 0.5f, -0.25f, 0.125f, 1f });
        using var g2 = tensor(new[] { -0.3f, 0.7f, 0.2f, -1f });
        optA.Step(new Dictionary<string, Tensor> { ["w"] = g1 }, 1);
        var (moments, steps) = optA.State();
        b.copy_(a);
        using var optB = new AdamW();
        optB.Add("w", b, new AdamWGroup("g", 1e-2, 0.1));
        optB.LoadState(moments, steps);
        optA.Step(new Dictionary<string, Tensor> { ["w"] = g2 }, 1);
        optB.Step(new Dictionary<string, Tensor> { ["w"] = g2 }, 1);
        Assert.That(b.data<float>().ToArray(), Is.EqualTo(a.data<float>().ToArray()));
        foreach (var t in moments.Values) t.Dispose();
    }

    [Test]
    public void MissingStateIsANamedCheckpointError()
    {
        using var a = zeros(3);
        using var opt = new AdamW();
        opt.Add("enc.w", a, new AdamWGroup("g", 1e-3, 0));
        var e = Assert.Throws<HArnessCheckpointException>(() => opt.LoadState(new Dictionary<string, Tensor>(), new Dictionary<string, long>(), "x.safetensors"))!;
        Assert.That(e.Message, Does.Contain("enc.w.exp_avg").And.Contain("x.safetensors"));
    }

    [Test]
    public void NormsBiasesAndEmbeddingsGetNoWeightDecay()
    {
        using var model = TrainingTestKit.Mlp(3);
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(TrainableModule.DefaultNoWeightDecay("fc1.weight", named["fc1.weight"]), Is.False);
        Assert.That(TrainableModule.DefaultNoWeightDecay("fc1.bias", named["fc1.bias"]), Is.True);
        Assert.That(TrainableModule.DefaultNoWeightDecay("norm.weight", named["norm.weight"]), Is.True);
        using var emb = new TorchSharp.Modules.Parameter(zeros(10, 4));
        Assert.That(TrainableModule.DefaultNoWeightDecay("label_embs_concat", emb), Is.True);
        Assert.That(TrainableModule.DefaultNoWeightDecay("embedding.weight", emb), Is.True);
        Assert.That(TrainableModule.DefaultNoWeightDecay("encoder.layers.0.attention.q_proj.weight", emb), Is.False);
    }

    [Test]
    public void WeightDecayOnlyTouchesTheDecayGroup()
    {
        // With zero gradients AdamW's update is pure decay: decayed weights shrink by (1 − lr·wd), biases and norms stay.
        using var model = TrainingTestKit.Mlp(4);
        var before = TrainingTestKit.Snapshot(model);
        var items = TrainingTestKit.Pairs(4, 1);
        var options = new TrainerOptions { MaxSteps = 1, LearningRate = 0.1, WeightDecay = 0.5 };
        using (var trainer = new Trainer<TrainingTestKit.PairBatch>([new("m", model) { GradientMultiplier = 0 }],
                   new TrainingTestKit.MseObjective(model), TrainingTestKit.Source(items, 4), options))
            trainer.Run();
        var after = TrainingTestKit.Snapshot(model);
        Assert.That(after["fc1.weight"], Is.EqualTo(before["fc1.weight"].Select(w => w * 0.95f).ToArray()).Within(1e-6));
        Assert.That(after["fc1.bias"], Is.EqualTo(before["fc1.bias"]));
        Assert.That(after["norm.weight"], Is.EqualTo(before["norm.weight"]));
    }
}
