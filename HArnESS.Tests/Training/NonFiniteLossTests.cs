using HArnESS.Training;
using NUnit.Framework;

namespace HArnESS.Tests.Training;

public sealed class NonFiniteLossTests
{
    // Batches of 4 from 12 items: 3 per epoch. The "extra" term is NaN on the given batches.
    private static Func<TrainingStepContext, double> PoisonAt(params BatchPosition[] at) =>
        ctx => ctx.IsTraining && at.Contains(ctx.Position) ? double.NaN : 0.0;

    [Test]
    public void ByDefaultANaNTermStopsNamingTheTermAndStepAndKeepsTheLastGoodState()
    {
        using var tmp = TestPaths.NewTempDirectory();
        using var model = TrainingTestKit.Mlp(31);
        var options = new TrainerOptions { MaxSteps = 10, CheckpointDirectory = tmp.Path, CheckpointEvery = 100 };
        using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)],
            new TrainingTestKit.MseObjective(model, PoisonAt(new BatchPosition(1, 1))), TrainingTestKit.Source(TrainingTestKit.Pairs(12, 5), 4), options);
        Dictionary<string, float[]>? afterStep4 = null;
        var lastStep = 0L;
        var e = Assert.Throws<HArnessNonFiniteLossException>(() => trainer.Run(new TrainingTestKit.SyncProgress(p =>
        {
            if (p.Stage != TrainingStage.Training) return;
            lastStep = p.Step;
            if (p.Step == 4) afterStep4 = TrainingTestKit.Snapshot(model);
        })))!;
        Assert.That(e.Term, Is.EqualTo("extra"));
        Assert.That(e.Step, Is.EqualTo(4));
        Assert.That(e.Position, Is.EqualTo(new BatchPosition(1, 1)));
        Assert.That(e.Message, Does.Contain("'extra'").And.Contain("NaN").And.Contain("update 4").And.Contain("epoch 1, batch 1"));
        Assert.That(e.CheckpointPath, Does.EndWith("step-00000004.safetensors"));
        Assert.That(TrainingCheckpoint.ReadStep(e.CheckpointPath!), Is.EqualTo(4));
        Assert.That(lastStep, Is.EqualTo(4), "updates 0..3 done; update 4 (the fifth) was never applied");
        Assert.That(trainer.Step, Is.EqualTo(4));
        Assert.That(TrainingTestKit.Snapshot(model), Is.EqualTo(afterStep4));
        Assert.That(TrainingTestKit.Snapshot(model).Values.SelectMany(v => v).All(float.IsFinite), Is.True);
    }

    [Test]
    public void TheSkipPolicySkipsUpToItsLimitThenStops()
    {
        using var model = TrainingTestKit.Mlp(32);
        var poison = PoisonAt(new BatchPosition(0, 1), new BatchPosition(1, 2));
        var options = new TrainerOptions { MaxSteps = 8, NonFinite = NonFiniteLossPolicy.Skip, MaxSkippedSteps = 2 };
        using (var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)],
                   new TrainingTestKit.MseObjective(model, poison), TrainingTestKit.Source(TrainingTestKit.Pairs(12, 5), 4), options))
        {
            var skipped = new List<long>();
            var result = trainer.Run(new TrainingTestKit.SyncProgress(p => { if (p.Stage == TrainingStage.Skipped) skipped.Add(p.Step); }));
            Assert.That(result.Steps, Is.EqualTo(8));
            Assert.That(result.SkippedSteps, Is.EqualTo(2));
            Assert.That(skipped, Is.EqualTo(new long[] { 1, 4 }));
            Assert.That(result.History.Records.All(r => double.IsFinite(r.Terms["total"])), Is.True);
        }

        using var model2 = TrainingTestKit.Mlp(32);
        var options2 = options with { MaxSkippedSteps = 1 };
        using var trainer2 = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model2)],
            new TrainingTestKit.MseObjective(model2, poison), TrainingTestKit.Source(TrainingTestKit.Pairs(12, 5), 4), options2);
        var e = Assert.Throws<HArnessNonFiniteLossException>(() => trainer2.Run())!;
        Assert.That((e.Term, e.Position), Is.EqualTo(("extra", new BatchPosition(1, 2))));
        Assert.That(e.Message, Does.Contain("after 1 skipped update"));
    }
}
