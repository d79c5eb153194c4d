using System.Globalization;
using HArnESS.Serialization;
using HArnESS.Runtime;
using HArnESS.Training;

namespace HArnESS.TestWorker;

/// <summary>
/// <c>train --dir DIR --steps N [--checkpoint-every K] [--seed S] [--accumulate A] [--sleep-ms MS]</c>: trains
/// <see cref="TinyTrainingRun"/> on the CPU with one thread, checkpointing into DIR (resuming from it when it holds a
/// checkpoint). Prints <c>checkpoint STEP</c> after each checkpoint and <c>step STEP</c> after each update (flushed),
/// sleeps MS after each update (so a test can kill it mid-way), and at the end writes <c>DIR/losses.csv</c> and
/// <c>DIR/weights.safetensors</c> and prints <c>done STEP</c>.
/// </summary>
public static class TrainVerb
{
    /// <summary>Runs the verb.</summary>
    /// <param name="args">The options above.</param>
    /// <returns>0 on success, 2 on bad arguments.</returns>
    public static int Run(string[] args)
    {
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2) opts[args[i]] = args[i + 1];
        if (!opts.TryGetValue("--dir", out var dir) || !opts.TryGetValue("--steps", out var stepsText))
        {
            Console.Error.WriteLine("train: --dir and --steps are required.");
            return 2;
        }
        int Int(string name, int fallback) => opts.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Threads = 1, Seed = 1 });
        var sleep = Int("--sleep-ms", 0);
        using var run = new TinyTrainingRun(seed: Int("--seed", 7));
        var options = new TrainerOptions
        {
            MaxSteps = long.Parse(stepsText, CultureInfo.InvariantCulture),
            LearningRate = 2e-3,
            Schedule = LearningRateSchedule.WarmupCosine(3),
            AccumulationSteps = Int("--accumulate", 1),
            MaxGradientNorm = 5,
            Seed = Int("--seed", 7),
            CheckpointDirectory = dir,
            CheckpointEvery = Int("--checkpoint-every", 4),
            KeepLastCheckpoints = 2,
        };
        using var trainer = new Trainer<WaveBatch>(run.Modules, run.Objective, run.Source, options);
        var progress = new SyncProgress(p =>
        {
            if (p.Stage == TrainingStage.Checkpoint) Console.Out.WriteLine($"checkpoint {p.Step}");
            else if (p.Stage == TrainingStage.Resumed) Console.Out.WriteLine($"resumed {p.Step}");
            else if (p.Stage == TrainingStage.Training)
            {
                Console.Out.WriteLine($"step {p.Step}");
                if (sleep > 0) Thread.Sleep(sleep);
            }
            Console.Out.Flush();
        });
        var result = trainer.Run(progress);
        result.History.SaveCsv(Path.Combine(dir, "losses.csv"));
        SafeTensors.Save(Path.Combine(dir, "weights.safetensors"), run.Weights());
        Console.Out.WriteLine($"done {result.Steps}");
        return 0;
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
