using HArnESS.Encoders;
using HArnESS.Training;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Training;

public sealed class GradientTests
{
    private sealed class Batch(Tensor wave, Tensor target) : IDisposable
    {
        public Tensor Wave { get; } = wave;
        public Tensor Target { get; } = target;
        public void Dispose()
        {
            Wave.Dispose();
            Target.Dispose();
        }
    }

    private sealed class EncoderRegression(SpeechEncoder encoder, TorchSharp.Modules.Linear head) : ITrainingObjective<Batch>
    {
        public TrainingLoss Compute(Batch batch, TrainingStepContext context)
        {
            using var output = encoder.Forward(batch.Wave);
            var pooled = head.forward(output.LastHiddenState).mean([1]);
            return TrainingLoss.Single(nn.functional.mse_loss(pooled, batch.Target), "mse", batch.Wave.shape[0]);
        }
    }

    private static Dictionary<string, Tensor> GradientsOf(int batchSize, int accumulate, out long steps)
    {
        var config = EncoderPresets.TinyPostLn with
        {
            HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0, LayerDrop = 0, MaskTimeProb = 0,
        };
        torch.manual_seed(11);
        using var encoder = new SpeechEncoder(config);
        using var head = nn.Linear(config.HiddenSize, 2);
        var rng = new Random(5);
        var items = Enumerable.Range(0, 8).Select(_ => (Wave: Enumerable.Range(0, 1200).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(),
            Target: new[] { (float)rng.NextDouble(), (float)rng.NextDouble() })).ToArray();
        var source = new InMemoryBatchSource<(float[] Wave, float[] Target), Batch>(items, batchSize,
            b => new Batch(tensor(b.SelectMany(i => i.Wave).ToArray(), [b.Count, 1200]), tensor(b.SelectMany(i => i.Target).ToArray(), [b.Count, 2])),
            shuffle: false);
        var options = new TrainerOptions { MaxSteps = 1, AccumulationSteps = accumulate, LearningRate = 1e-3 };
        using var trainer = new Trainer<Batch>([new("encoder", encoder), new("head", head)], new EncoderRegression(encoder, head), source, options);
        var grads = new Dictionary<string, Tensor>();
        trainer.GradientsReady += (_, e) =>
        {
            foreach (var (k, g) in e.Gradients) grads[k] = g.detach().clone().DetachFromDisposeScope();
        };
        steps = trainer.Run().Steps;
        return grads;
    }

    [Test]
    public void FourAccumulatedBatchesOfTwoGiveTheGradientsOfOneBatchOfEight()
    {
        var big = GradientsOf(8, 1, out var s1);
        var small = GradientsOf(2, 4, out var s2);
        Assert.That((s1, s2), Is.EqualTo((1L, 1L)));
        Assert.That(small.Keys, Is.EquivalentTo(big.Keys));
        Assert.That(big.Count, Is.GreaterThan(20));
        var worst = 0.0;
        foreach (var (k, g) in big)
        {
            var diff = (g - small[k]).abs().max().item<float>();
            worst = Math.Max(worst, diff);
            Assert.That(diff, Is.LessThanOrEqualTo(1e-6), k);
        }
        Assert.That(big.Values.Sum(g => g.abs().sum().item<float>()), Is.GreaterThan(1e-3), "gradients are not trivially zero");
        TestContext.Out.WriteLine($"worst |g8 − Σg2| = {worst:E2}");
        foreach (var t in big.Values.Concat(small.Values)) t.Dispose();
    }

    [Test]
    public void AFrozenModuleKeepsItsWeightsForItsFreezeUpdatesThenTrains()
    {
        using var model = TrainingTestKit.Mlp(6);
        using var head = nn.Linear(3, 3);
        var seq = nn.Sequential(("body", model), ("head", head));
        var items = TrainingTestKit.Pairs(8, 3);
        var bodyAt = new List<float[]>();
        var options = new TrainerOptions { MaxSteps = 4, LearningRate = 0.01 };
        using var trainer = new Trainer<TrainingTestKit.PairBatch>(
            [new("body", model) { FreezeUpdates = 2 }, new("head", head)], new TrainingTestKit.MseObjective(seq), TrainingTestKit.Source(items, 4), options);
        var initial = TrainingTestKit.Snapshot(model)["fc1.weight"];
        var headInitial = TrainingTestKit.Snapshot(head)["weight"];
        var gradKeys = new List<string[]>();
        trainer.GradientsReady += (_, e) => gradKeys.Add(e.Gradients.Keys.ToArray());
        trainer.Run(new TrainingTestKit.SyncProgress(p =>
        {
            if (p.Stage == TrainingStage.Training) bodyAt.Add(TrainingTestKit.Snapshot(model)["fc1.weight"]);
        }));
        Assert.That(bodyAt[0], Is.EqualTo(initial));
        Assert.That(bodyAt[1], Is.EqualTo(initial));
        Assert.That(bodyAt[2], Is.Not.EqualTo(initial));
        Assert.That(TrainingTestKit.Snapshot(head)["weight"], Is.Not.EqualTo(headInitial));
        Assert.That(gradKeys[0].Any(k => k.StartsWith("body.", StringComparison.Ordinal)), Is.False);
        Assert.That(gradKeys[2].Any(k => k.StartsWith("body.", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public void AGradientMultiplierScalesThatModulesGradientsOnly()
    {
        Dictionary<string, Tensor> Run(double mult)
        {
            using var model = TrainingTestKit.Mlp(8);
            var items = TrainingTestKit.Pairs(4, 9);
            var grads = new Dictionary<string, Tensor>();
            using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("m", model) { GradientMultiplier = mult }],
                new TrainingTestKit.MseObjective(model), TrainingTestKit.Source(items, 4), new TrainerOptions { MaxSteps = 1 });
            trainer.GradientsReady += (_, e) =>
            {
                foreach (var (k, g) in e.Gradients) grads[k] = g.detach().clone().DetachFromDisposeScope();
            };
            trainer.Run();
            return grads;
        }
        var one = Run(1.0);
        var tenth = Run(0.1);
        foreach (var (k, g) in one)
            Assert.That((tenth[k] - g * 0.1).abs().max().item<float>(), Is.LessThan(1e-7), k);
    }

    [Test]
    public void ClippingScalesEveryGradientByMaxOverNorm()
    {
        // With a huge ε AdamW's first update is ≈ −lr·g/ε, proportional to the (clipped) gradient.
        (Dictionary<string, float[]> Before, Dictionary<string, float[]> After, double Norm) Run(double? clip)
        {
            using var model = TrainingTestKit.Mlp(10);
            var before = TrainingTestKit.Snapshot(model);
            var options = new TrainerOptions { MaxSteps = 1, LearningRate = 1000, WeightDecay = 0, MaxGradientNorm = clip, AdamW = new AdamWOptions { Epsilon = 1e4 } };
            using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("m", model)],
                new TrainingTestKit.MseObjective(model), TrainingTestKit.Source(TrainingTestKit.Pairs(4, 2), 4), options);
            var result = trainer.Run();
            return (before, TrainingTestKit.Snapshot(model), result.History.Records[0].GradientNorm);
        }
        var free = Run(null);
        var clipped = Run(0.01);
        Assert.That(clipped.Norm, Is.EqualTo(free.Norm).Within(1e-9), "the reported norm is the one before clipping");
        Assert.That(free.Norm, Is.GreaterThan(0.05));
        var ratio = 0.01 / (free.Norm + 1e-6);
        foreach (var k in free.Before.Keys)
            for (var i = 0; i < free.Before[k].Length; i++)
            {
                var dFree = free.After[k][i] - free.Before[k][i];
                var dClip = clipped.After[k][i] - clipped.Before[k][i];
                Assert.That(dClip, Is.EqualTo(dFree * ratio).Within(1e-6 + Math.Abs(dFree * ratio) * 1e-2), k);
            }
    }
}
