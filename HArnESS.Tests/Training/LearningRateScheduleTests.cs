using HArnESS.Training;
using NUnit.Framework;

namespace HArnESS.Tests.Training;

public sealed class LearningRateScheduleTests
{
    // Hand-computed: warmup 10, total 110 → decay progress p = (s − 10) / 100.
    [TestCase(0, 0.0)]
    [TestCase(5, 0.5)]
    [TestCase(10, 1.0)]
    [TestCase(35, 0.75)]      // 1 − 25/100
    [TestCase(60, 0.5)]
    [TestCase(110, 0.0)]
    [TestCase(200, 0.0)]
    public void LinearWarmupThenLinearDecay(long step, double expected) =>
        Assert.That(LearningRateSchedule.WarmupLinear(10).Factor(step, 110), Is.EqualTo(expected).Within(1e-12));

    [TestCase(3, 0.3)]
    [TestCase(10, 1.0)]
    [TestCase(35, 0.8535533905932737)] // ½(1 + cos(π/4))
    [TestCase(60, 0.5)]
    [TestCase(85, 0.14644660940672627)] // ½(1 + cos(3π/4))
    [TestCase(110, 0.0)]
    public void LinearWarmupThenCosineDecay(long step, double expected) =>
        Assert.That(LearningRateSchedule.WarmupCosine(10).Factor(step, 110), Is.EqualTo(expected).Within(1e-12));

    [Test]
    public void DecayStopsAtTheFinalScale()
    {
        var s = LearningRateSchedule.WarmupCosine(0, finalScale: 0.1);
        Assert.That(s.Factor(0, 100), Is.EqualTo(1.0).Within(1e-12));
        Assert.That(s.Factor(50, 100), Is.EqualTo(0.1 + 0.9 * 0.5).Within(1e-12));
        Assert.That(s.Factor(100, 100), Is.EqualTo(0.1).Within(1e-12));
    }

    // fairseq tri_stage, peak 1: init 0.01, warmup 10, hold 20, decay 40, final 0.05.
    // warmup: 0.01 + 0.99·s/10; hold: 1; decay: exp(ln(0.05)·(s − 30)/40); after: 0.05.
    [TestCase(0, 0.01)]
    [TestCase(5, 0.505)]
    [TestCase(10, 1.0)]
    [TestCase(29, 1.0)]
    [TestCase(30, 1.0)]
    [TestCase(50, 0.22360679774997896)] // exp(ln 0.05 / 2) = √0.05
    [TestCase(70, 0.05)]
    [TestCase(500, 0.05)]
    public void FairseqTriStage(long step, double expected) =>
        Assert.That(LearningRateSchedule.TriStageSchedule(10, 20, 40).Factor(step, 1000), Is.EqualTo(expected).Within(1e-12));

    [Test]
    public void TriStageFromRatiosUsesFairseqStageLengths()
    {
        // fairseq: phase_ratio [0.1, 0.4, 0.5] of 25 updates → int(2.5)=2, int(10)=10, int(12.5)=12.
        var s = LearningRateSchedule.TriStageFromRatios(25, 0.1, 0.4, 0.5);
        Assert.That((s.WarmupSteps, s.HoldSteps, s.DecaySteps), Is.EqualTo((2L, 10L, (long?)12L)));
    }

    [Test]
    public void TheTrainerTrainsEachUpdateAtTheScheduledRate()
    {
        using var model = TrainingTestKit.Mlp(1);
        var items = TrainingTestKit.Pairs(8, 2);
        var options = new TrainerOptions { MaxSteps = 12, LearningRate = 0.01, Schedule = LearningRateSchedule.TriStageSchedule(4, 2, 4) };
        using var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model),
            TrainingTestKit.Source(items, 4), options);
        var result = trainer.Run();
        var lrs = result.History.Records.Select(r => r.LearningRate).ToArray();
        var expected = Enumerable.Range(0, 12).Select(s => 0.01 * s switch
        {
            < 4 => 0.01 + 0.99 * s / 4.0,
            < 6 => 1.0,
            < 10 => Math.Exp(Math.Log(0.05) * (s - 6) / 4.0),
            _ => 0.05,
        }).ToArray();
        Assert.That(lrs, Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void InvalidSchedulesAreReportedTogether()
    {
        var options = new TrainerOptions
        {
            MaxSteps = 0,
            Schedule = new LearningRateSchedule { Kind = ScheduleKind.TriStage, WarmupSteps = -1, FinalScale = 0 },
            AccumulationSteps = 0,
            MaxGradientNorm = -1,
        };
        var e = Assert.Throws<HArnessValidationException>(options.Validate)!;
        Assert.That(e.Errors.Select(x => x.Option), Is.SupersetOf(new[]
            { "MaxSteps", "Schedule.WarmupSteps", "Schedule.FinalScale", "AccumulationSteps", "MaxGradientNorm" }));
    }
}
