using HArnESS.Training;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Training;

public sealed class MixedPrecisionTests
{
    [Test]
    public void CastingPutsMatmulWeightsInBf16AndKeepsNormsInFloat32()
    {
        using var model = TrainingTestKit.Mlp(51);
        MixedPrecision.CastForCompute(model, ScalarType.BFloat16);
        var dtypes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        Assert.That(dtypes["fc1.weight"], Is.EqualTo(ScalarType.BFloat16));
        Assert.That(dtypes["fc2.bias"], Is.EqualTo(ScalarType.BFloat16));
        Assert.That(dtypes["norm.weight"], Is.EqualTo(ScalarType.Float32));
        Assert.That(MixedPrecision.Float32ParameterNames(model), Is.EquivalentTo(new[] { "norm.weight", "norm.bias" }));
        using var x = randn(4, 6).to_type(ScalarType.BFloat16);
        using var y = model.forward(x);
        Assert.That(y.dtype, Is.EqualTo(ScalarType.BFloat16));
    }

    [Test]
    public void Bf16TrainingUpdatesFloat32MastersAndRestoresTheModel()
    {
        var items = TrainingTestKit.Pairs(16, 7);
        double[] Losses(PrecisionMode mode, out Dictionary<string, ScalarType> during, out nn.Module model)
        {
            var m = TrainingTestKit.Mlp(52);
            model = m;
            var seenDtypes = new Dictionary<string, ScalarType>();
            var options = new TrainerOptions { MaxSteps = 40, LearningRate = 1e-2, Precision = mode };
            using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", m)], new TrainingTestKit.MseObjective(m),
                TrainingTestKit.Source(items, 8), options);
            var result = trainer.Run(new TrainingTestKit.SyncProgress(p =>
            {
                if (p.Step == 1 && seenDtypes.Count == 0)
                    foreach (var (n, prm) in m.named_parameters()) seenDtypes[n] = prm.dtype;
            }));
            during = seenDtypes;
            return result.History.Records.Select(r => r.Terms["mse"]).ToArray();
        }
        var fp32 = Losses(PrecisionMode.Float32, out _, out var m32);
        var bf16 = Losses(PrecisionMode.BFloat16, out var dtypes, out var m16);
        Assert.That(dtypes["fc1.weight"], Is.EqualTo(ScalarType.BFloat16));
        Assert.That(dtypes["norm.weight"], Is.EqualTo(ScalarType.Float32));
        Assert.That(bf16[^5..].Average(), Is.LessThan(bf16[..5].Average() * 0.7), "bf16 training reduces the loss");
        Assert.That(bf16[^1], Is.EqualTo(fp32[^1]).Within(fp32[^1] * 0.1 + 1e-3), "bf16 follows the fp32 run");
        // After the run (Dispose): float32 again, holding the float32 masters (not bf16-rounded values).
        var w = m16.named_parameters().First(p => p.name == "fc1.weight").parameter;
        Assert.That(w.dtype, Is.EqualTo(ScalarType.Float32));
        using var rounded = w.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);
        Assert.That((w - rounded).abs().max().item<float>(), Is.GreaterThan(0), "masters keep float32 precision");
        m32.Dispose();
        m16.Dispose();
    }

    [Test]
    public void TheLossScalerBacksOffOnOverflowAndGrowsAfterItsInterval()
    {
        var s = new DynamicLossScaler(new LossScalerOptions { InitialScale = 1024, GrowthInterval = 3 }, enabled: true);
        Assert.That(s.Update(overflow: true), Is.False);
        Assert.That(s.Scale, Is.EqualTo(512));
        Assert.That(s.Update(false) && s.Update(false), Is.True);
        Assert.That(s.Scale, Is.EqualTo(512));
        s.Update(false);
        Assert.That((s.Scale, s.GoodSteps, s.Overflows), Is.EqualTo((1024.0, 0, 1L)));
        var off = new DynamicLossScaler(new LossScalerOptions(), enabled: false);
        Assert.That((off.Scale, off.Update(false), off.Update(true)), Is.EqualTo((1.0, true, false)));
    }

    [Test]
    public void Fp16TrainingSkipsOverflowingUpdatesAndBacksOff()
    {
        using var model = TrainingTestKit.Mlp(53);
        var options = new TrainerOptions
        {
            MaxSteps = 6, Precision = PrecisionMode.Float16,
            LossScaler = new LossScalerOptions { InitialScale = 1e30, MinScale = 1 },
        };
        using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model),
            TrainingTestKit.Source(TrainingTestKit.Pairs(8, 3), 4), options);
        var scales = new List<double>();
        var result = trainer.Run(new TrainingTestKit.SyncProgress(p => { if (p.Stage == TrainingStage.Skipped) scales.Add(p.LossScale); }));
        Assert.That(result.Steps, Is.EqualTo(6));
        Assert.That(result.SkippedSteps, Is.GreaterThan(0), "a 1e30 scale overflows float16");
        Assert.That(scales, Is.Ordered.Descending);
        Assert.That(result.History.Records.All(r => double.IsFinite(r.GradientNorm)), Is.True);
    }
}
