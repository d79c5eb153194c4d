using System.Diagnostics;
using HArnESS.Training;
using Microsoft.Extensions.Logging;
using NUnit.Framework;

namespace HArnESS.Tests.Training;

public sealed class ResumeTests : OneThreadTest
{
    private static string Worker => Path.Combine(AppContext.BaseDirectory, "HArnESS.TestWorker.dll");

    private static Process Start(string dir, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Worker, "train", "--dir", dir, "--steps", "12", "--checkpoint-every", "4" }.Concat(extra)) psi.ArgumentList.Add(a);
        psi.Environment["HARNESS_DEVICE"] = "cpu";
        return Process.Start(psi)!;
    }

    private static List<string> RunToEnd(string dir, params string[] extra)
    {
        using var p = Start(dir, extra);
        var err = p.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (p.StandardOutput.ReadLine() is { } line) lines.Add(line);
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero, $"worker failed: {err.Result}");
        return lines;
    }

    [Test]
    public void AKilledRunResumesBitIdenticalToAnUninterruptedOne()
    {
        Assert.That(File.Exists(Worker), Is.True, $"the test worker is built beside the tests: {Worker}");
        using var tmp = TestPaths.NewTempDirectory();
        var straight = Path.Combine(tmp.Path, "straight");
        var killed = Path.Combine(tmp.Path, "killed");

        var straightLines = RunToEnd(straight);
        Assert.That(straightLines, Does.Contain("done 12"));

        // Kill with SIGKILL after checkpoint 4 was written, while it is between steps 6 and 7 (of 8 before the next).
        var seen = new List<string>();
        using (var p = Start(killed, "--sleep-ms", "200"))
        {
            _ = p.StandardError.ReadToEndAsync();
            var sawCheckpoint = false;
            while (p.StandardOutput.ReadLine() is { } line)
            {
                seen.Add(line);
                if (line == "checkpoint 4") sawCheckpoint = true;
                if (sawCheckpoint && line == "step 6")
                {
                    p.Kill(entireProcessTree: true); // SIGKILL on Linux: no managed clean-up runs
                    break;
                }
            }
            p.WaitForExit();
            Assert.That(sawCheckpoint, Is.True, string.Join("\n", seen));
            Assert.That(p.ExitCode, Is.Not.Zero);
        }
        Assert.That(seen, Does.Not.Contain("checkpoint 8"));
        Assert.That(File.Exists(Path.Combine(killed, "weights.safetensors")), Is.False);

        var resumedLines = RunToEnd(killed);
        Assert.That(resumedLines, Does.Contain("resumed 4"));
        Assert.That(resumedLines, Does.Not.Contain("step 4"));
        Assert.That(resumedLines, Does.Contain("step 5"));

        var a = File.ReadAllText(Path.Combine(straight, "losses.csv"));
        var b = File.ReadAllText(Path.Combine(killed, "losses.csv"));
        Assert.That(a.Split('\n').Length, Is.EqualTo(14), a);
        Assert.That(b, Is.EqualTo(a), "loss history (round-trip doubles) is bit-identical");
        Assert.That(File.ReadAllBytes(Path.Combine(killed, "weights.safetensors")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(straight, "weights.safetensors"))), "final weights are bit-identical");
    }

    private static (Trainer<TrainingTestKit.PairBatch> Trainer, TorchSharp.torch.nn.Module Model) NewTrainer(string dir,
        TrainingTestKit.ListLoggerFactory? log = null, double lr = 0.01, ResumeMode resume = ResumeMode.Auto)
    {
        var model = TrainingTestKit.Mlp(21);
        var options = new TrainerOptions
        {
            MaxSteps = 8, LearningRate = lr, CheckpointDirectory = dir, CheckpointEvery = 2, KeepLastCheckpoints = 3,
            Resume = resume, LoggerFactory = log ?? (ILoggerFactory)new TrainingTestKit.ListLoggerFactory(),
        };
        var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model),
            TrainingTestKit.Source(TrainingTestKit.Pairs(12, 4), 4), options);
        return (trainer, model);
    }

    [Test]
    public void ATruncatedCheckpointIsDetectedAndThePreviousOneUsedWithAWarning()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var (t1, m1) = NewTrainer(tmp.Path);
        var r1 = t1.Run();
        var expected = TrainingTestKit.Snapshot(m1);
        t1.Dispose();
        Assert.That(TrainingCheckpoint.List(tmp.Path).Select(Path.GetFileName), Is.EqualTo(new[]
            { "step-00000008.safetensors", "step-00000006.safetensors", "step-00000004.safetensors" }));

        var newest = Path.Combine(tmp.Path, "step-00000008.safetensors");
        var bytes = File.ReadAllBytes(newest);
        File.WriteAllBytes(newest, bytes[..(bytes.Length * 2 / 3)]);
        Assert.That(TrainingCheckpoint.Verify(newest, out var problem), Is.False);
        TestContext.Out.WriteLine(problem);

        var log = new TrainingTestKit.ListLoggerFactory();
        var (t2, m2) = NewTrainer(tmp.Path, log);
        var r2 = t2.Run();
        t2.Dispose();
        Assert.That(r2.ResumedFromStep, Is.EqualTo(6));
        Assert.That(log.Messages.Any(m => m.Level == LogLevel.Warning && m.Message.Contains(newest, StringComparison.Ordinal)), Is.True);
        Assert.That(TrainingTestKit.Snapshot(m2), Is.EqualTo(expected));
        Assert.That(r2.History.Records.Select(r => r.Terms["total"]), Is.EqualTo(r1.History.Records.Select(r => r.Terms["total"])));
        m1.Dispose();
        m2.Dispose();
    }

    [Test]
    public void AFlippedByteFailsTheChecksum()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var (t, m) = NewTrainer(tmp.Path);
        t.Run();
        t.Dispose();
        m.Dispose();
        var file = TrainingCheckpoint.List(tmp.Path)[0];
        var bytes = File.ReadAllBytes(file);
        bytes[^20] ^= 0x40; // inside the tensor data: still a valid safetensors file
        File.WriteAllBytes(file, bytes);
        Assert.That(TrainingCheckpoint.Verify(file, out var problem), Is.False);
        Assert.That(problem, Does.Contain("checksum"));
    }

    [Test]
    public void ResumingUnderADifferentConfigIsRefusedListingTheDifferences()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var (t1, m1) = NewTrainer(tmp.Path);
        t1.Run();
        t1.Dispose();
        m1.Dispose();
        var (t2, m2) = NewTrainer(tmp.Path, lr: 0.02);
        var e = Assert.Throws<HArnessCheckpointMismatchException>(() => t2.Run())!;
        Assert.That(e.Differences.Select(d => d.Key), Is.EqualTo(new[] { "LearningRate" }));
        Assert.That(e.Message, Does.Contain("LearningRate: checkpoint 0.01, now 0.02"));
        Assert.That(e.FilePath, Does.EndWith("step-00000008.safetensors"));
        t2.Dispose();
        m2.Dispose();
    }

    [Test]
    public void ARequiredResumeWithoutCheckpointIsANamedError()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var (t, m) = NewTrainer(tmp.Path, resume: ResumeMode.Required);
        var e = Assert.Throws<HArnessCheckpointException>(() => t.Run())!;
        Assert.That(e.Message, Does.Contain("no intact checkpoint").And.Contain(tmp.Path));
        t.Dispose();
        m.Dispose();
    }
}

public sealed class CancellationTests : OneThreadTest
{
    [Test]
    public void CancellingWritesACheckpointThatResumesExactly()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var items = TrainingTestKit.Pairs(12, 8);
        var options = new TrainerOptions { MaxSteps = 9, CheckpointDirectory = tmp.File("cancelled"), CheckpointEvery = 100 };

        double[] straight;
        using (var model = TrainingTestKit.Mlp(81))
        using (var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model),
                   TrainingTestKit.Source(items, 4), options with { CheckpointDirectory = tmp.File("straight") }))
            straight = trainer.Run().History.Records.Select(r => r.Terms["total"]).ToArray();

        using var cts = new CancellationTokenSource();
        using (var model = TrainingTestKit.Mlp(81))
        using (var trainer = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model)], new TrainingTestKit.MseObjective(model),
                   TrainingTestKit.Source(items, 4), options))
        {
            Assert.Throws<OperationCanceledException>(() => trainer.Run(new TrainingTestKit.SyncProgress(p =>
            {
                if (p.Stage == TrainingStage.Training && p.Step == 4) cts.Cancel();
            }), cts.Token));
        }
        Assert.That(TrainingCheckpoint.List(tmp.File("cancelled")).Select(Path.GetFileName), Is.EqualTo(new[] { "step-00000004.safetensors" }));

        using var model2 = TrainingTestKit.Mlp(81);
        using var resumed = new Trainer<TrainingTestKit.PairBatch>([new("mlp", model2)], new TrainingTestKit.MseObjective(model2),
            TrainingTestKit.Source(items, 4), options);
        var result = resumed.Run();
        Assert.That(result.ResumedFromStep, Is.EqualTo(4));
        Assert.That(result.History.Records.Select(r => r.Terms["total"]), Is.EqualTo(straight));
    }
}
