using HArnESS.Training;
using NUnit.Framework;

namespace HArnESS.Tests.Training;

public sealed class ValidationTests
{
    private sealed class CountingMetric : IValidationMetric<TrainingTestKit.PairBatch>
    {
        private readonly Queue<double> _values;
        public CountingMetric(params double[] values) => _values = new Queue<double>(values);
        public string Name => "score";
        public bool HigherIsBetter => true;
        public int Batches { get; private set; }
        public void Reset() { }
        public void Update(TrainingTestKit.PairBatch batch, TrainingStepContext context)
        {
            Assert.That(context.IsTraining, Is.False);
            Batches++;
        }
        public double Compute() => _values.Dequeue();
    }

    [Test]
    public void ValidationKeepsTheBestCheckpointAndStopsEarly()
    {
        using var tmp = TestPaths.NewTempDirectory();
        using var model = TrainingTestKit.Mlp(61);
        var metric = new CountingMetric(0.5, 0.7, 0.6, 0.65, 0.69, 0.1);
        var options = new TrainerOptions { MaxSteps = 100, ValidateEvery = 2, EarlyStoppingPatience = 3, CheckpointDirectory = tmp.Path };
        using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model),
            TrainingTestKit.Source(TrainingTestKit.Pairs(8, 1), 4), options, TrainingTestKit.Source(TrainingTestKit.Pairs(6, 2), 3, shuffle: false), metric);
        var result = trainer.Run();
        Assert.That(result.Reason, Is.EqualTo(StopReason.EarlyStopping));
        Assert.That(result.Steps, Is.EqualTo(10), "validations at 2, 4 (best), 6, 8, 10: three without improvement");
        Assert.That((result.BestMetric, result.BestStep), Is.EqualTo(((double?)0.7, (long?)4)));
        Assert.That(metric.Batches, Is.EqualTo(10));
        Assert.That(TrainingCheckpoint.ReadStep(result.BestCheckpoint!), Is.EqualTo(4));
        var valid = result.History.Records.Where(r => r.Split == "valid").ToArray();
        Assert.That(valid.Select(r => r.Step), Is.EqualTo(new long[] { 2, 4, 6, 8, 10 }));
        Assert.That(valid.All(r => r.Terms.ContainsKey("mse") && r.Terms.ContainsKey("score")), Is.True);
        var csv = File.ReadAllLines(Path.Combine(tmp.Path, "loss_history.csv"));
        Assert.That(csv[0], Is.EqualTo("step,epoch,split,lr,grad_norm,total,mse,score"));
        Assert.That(csv.Count(l => l.Contains(",valid,", StringComparison.Ordinal)), Is.EqualTo(5));
        var back = LossHistory.LoadCsv(Path.Combine(tmp.Path, "loss_history.csv"));
        Assert.That(back.Series("mse", "valid").Select(v => v.Value), Is.EqualTo(valid.Select(r => r.Terms["mse"])));
    }

    [Test]
    public void BadModulesAndOptionsAreReportedTogether()
    {
        using var model = TrainingTestKit.Mlp(62);
        var e = Assert.Throws<HArnessValidationException>(() => new Trainer<TrainingTestKit.PairBatch>(
            [new("a b", model) { FreezeUpdates = -1, GradientMultiplier = double.NaN }, new("a b", model)],
            new TrainingTestKit.MseObjective(model), TrainingTestKit.Source(TrainingTestKit.Pairs(4, 1), 4),
            new TrainerOptions { MaxSteps = 5, EarlyStoppingPatience = 2 }))!;
        Assert.That(e.Errors.Select(x => x.Option), Is.SupersetOf(new[]
            { "modules[0].Name", "modules[0].FreezeUpdates", "modules[0].GradientMultiplier", "modules[1].Name", "EarlyStoppingPatience" }));
    }

    [Test]
    public void ProgressReportsStepLossesRateThroughputAndEta()
    {
        using var model = TrainingTestKit.Mlp(63);
        var reports = new List<TrainingProgress>();
        var source = new InMemoryBatchSource<(float[] X, float[] Y), TrainingTestKit.PairBatch>(TrainingTestKit.Pairs(8, 1), 4,
            TrainingTestKit.MakeBatch, audioSeconds: b => b.Count * 2.0);
        using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model), source,
            new TrainerOptions { MaxSteps = 5, Schedule = LearningRateSchedule.WarmupLinear(2) });
        trainer.Run(new TrainingTestKit.SyncProgress(reports.Add));
        var train = reports.Where(r => r.Stage == TrainingStage.Training).ToArray();
        Assert.That(train.Select(r => r.Step), Is.EqualTo(new long[] { 1, 2, 3, 4, 5 }));
        Assert.That(train[1].LearningRate, Is.EqualTo(5e-4 * 0.5).Within(1e-15));
        Assert.That(train.All(r => r.Losses.ContainsKey("mse") && r.Losses.ContainsKey("total") && r.GradientNorm > 0 && r.AudioSecondsPerSecond > 0 && r.Eta is not null), Is.True);
        Assert.That((train[2].Epoch, train[2].Batch, train[2].BatchesPerEpoch), Is.EqualTo((1, 1, 2)));
        var text = train[2].ToString();
        Assert.That(text, Does.StartWith("train: step 3/5 (60%), epoch 1 batch 1/2, loss ").And.Contain("lr ").And.Contain("audio s/s").And.Contain("ETA "));
        Assert.That(reports[^1].Stage, Is.EqualTo(TrainingStage.Finished));
    }
}

public sealed class RunUpdatesTests : OneThreadTest
{
    [Test]
    public void UpdatesInSeveralCallsEqualOneRun()
    {
        double[] Losses(bool staged)
        {
            using var model = TrainingTestKit.Mlp(71);
            using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model),
                TrainingTestKit.Source(TrainingTestKit.Pairs(10, 3), 4), new TrainerOptions { MaxSteps = 7 });
            if (staged)
            {
                Assert.That(trainer.RunUpdates(3).Steps, Is.EqualTo(3));
                Assert.That(trainer.RunUpdates(2).Steps, Is.EqualTo(5));
                Assert.That(trainer.RunUpdates(10).Steps, Is.EqualTo(7), "stops at MaxSteps");
            }
            else trainer.Run();
            return trainer.History.Records.Select(r => r.Terms["total"]).ToArray();
        }
        var staged = Losses(staged: true);
        var straight = Losses(staged: false);
        Assert.That(staged, Is.EqualTo(straight), $"staged [{string.Join(", ", staged)}] vs one run [{string.Join(", ", straight)}]");
    }
}
