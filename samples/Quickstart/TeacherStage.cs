using System.Globalization;
using HArnESS.Data;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Pretraining;
using HArnESS.Distillation.Students;
using HArnESS.Training;

namespace HArnESS.Samples.Quickstart;

/// <summary>Stage 1: the teacher. Either HArnESS's two-iteration self-distillation (<see cref="SelfDistillationPipeline"/>:
/// MFCC-39 k-means → masked pre-training, then the model's own PCA-compacted layer k-means → the next model), or a
/// user's checkpoint (<c>--teacher PATH</c>, no pre-training).</summary>
internal static class TeacherStage
{
    /// <summary>The teacher and what made it.</summary>
    /// <param name="Teacher">The teacher (with its masked-prediction codebook after pre-training).</param>
    /// <param name="Source">Where it came from (relative to the output folder when pre-trained here).</param>
    /// <param name="Iterations">The pre-training iterations (empty for a given checkpoint).</param>
    /// <param name="LossCsvs">Each iteration's loss history (trainer CSV), by plot name.</param>
    /// <param name="ModelFolder">The teacher's saved folder (null for a given checkpoint).</param>
    public sealed record Result(DistillationTeacher Teacher, string Source, IReadOnlyList<IterationInfo> Iterations,
        IReadOnlyList<(string Name, string Csv)> LossCsvs, string? ModelFolder);

    public static Result Run(QuickstartOptions o, ConsoleLog log, CancellationToken ct)
    {
        if (o.Teacher is { } path)
        {
            log.Stage($"Teacher: {path} (given; no pre-training)");
            var given = DistillationTeacher.Load(path);
            log.Detail($"{given.Config.NumLayers} layers × {given.Config.HiddenSize}, {given.Encoder.CountParameters():N0} parameters, " +
                       $"codebook: {(given.HasCodebook ? "yes" : "no (the discriminative loss is skipped)")}");
            return new Result(given, path, [], [], null);
        }

        log.Stage($"Teacher: HArnESS self-distillation, 2 iterations × {o.Steps} updates (iteration 1: MFCC-39 → k-means K = {Recipe.Clusters[0]}; " +
                  $"iteration 2: its own layer → PCA {Recipe.PcaComponents} → k-means K = {Recipe.Clusters[1]})");
        var outDir = Path.Combine(o.Output, "pretraining");
        var options = new SelfDistillationOptions
        {
            TrainManifest = o.TrainManifest,
            ValidManifest = o.ValidManifest,
            OutputDir = outDir,
            Iterations = 2,
            Encoder = Recipe.Teacher,
            Clusters = Recipe.Clusters,
            PcaComponents = Recipe.PcaComponents,
            FinalDim = 64,
            KMeans = new() { NInit = o.Smoke ? 1 : 3, MaxIter = o.Smoke ? 10 : 50, Seed = 1 },
            Pretraining = new MaskedPretrainingOptions { MaskProbability = 0.3, Loss = new() { UnmaskedWeight = Recipe.UnmaskedWeight } },
            Trainer = new TrainerOptions
            {
                MaxSteps = o.Steps, LearningRate = 2e-3, Schedule = LearningRateSchedule.WarmupLinear(Math.Max(1, o.Steps / 10), 0.1),
                MaxGradientNorm = 5, CheckpointEvery = Math.Max(1, o.Steps / 2), Device = HArnESS.Runtime.HArnessRuntime.Device,
            },
            TrainLoader = new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 32_000, Seed = 2 },
            ValidLoader = new AudioLoaderOptions { BatchSize = 8, Shuffle = false },
            Seed = 1,
        };
        var progress = new ConsoleLog.Sync<SelfDistillationProgress>(p =>
        {
            var worth = p.Stage switch
            {
                SelfDistillationStage.Training => p.Message.Contains("step 1/", StringComparison.Ordinal) || IsTenth(p.Message, o.Steps),
                SelfDistillationStage.Targets => p.Reused || p.Message.Contains("kmeans: final", StringComparison.Ordinal) || !p.Message.Contains('/'),
                _ => true,
            };
            if (worth) log.Detail(p.Message);
        });
        var result = SelfDistillationPipeline.RunAsync(options, progress, ct).GetAwaiter().GetResult();
        var iterations = result.Iterations.Select(r => r.Record).Select(r => new IterationInfo(r.Iteration, r.Features, r.Clusters,
            r.MaskedAccuracy, r.Chance, r.MajorityRate, r.Steps, r.FinalLoss)).ToArray();
        foreach (var r in iterations)
            log.Detail(string.Create(CultureInfo.InvariantCulture,
                $"iteration {r.Iteration} ({r.Features}, K = {r.K}): held-out masked accuracy {r.MaskedAccuracy:P1} (chance {r.Chance:P1}, majority unit {r.MajorityRate:P1})"));
        var csvs = result.Iterations.Select(r => ($"pretraining-iter{r.Record.Iteration}", Path.Combine(outDir, r.Record.Folder, "checkpoints", "loss_history.csv")))
            .Where(x => File.Exists(x.Item2)).ToArray();
        var teacher = DistillationTeacher.Load(result.FinalModel);
        log.Detail($"teacher: {teacher.Config.NumLayers} layers × {teacher.Config.HiddenSize}, {teacher.Encoder.CountParameters():N0} parameters → {result.FinalModel}");
        return new Result(teacher, Path.GetRelativePath(o.Output, result.FinalModel), iterations, csvs, result.FinalModel);
    }

    /// <summary>True for "training: step N/T" where N is a tenth of T (the message format of <see cref="TrainingProgress"/>).</summary>
    private static bool IsTenth(string message, int total)
    {
        var at = message.IndexOf("train: step ", StringComparison.Ordinal);
        if (at < 0) return message.Contains("valid:", StringComparison.Ordinal) || message.Contains("finished", StringComparison.Ordinal);
        var start = at + "train: step ".Length;
        var slash = message.IndexOf('/', start);
        return slash > start && int.TryParse(message.AsSpan(start, slash - start), NumberStyles.Integer, CultureInfo.InvariantCulture, out var step)
               && (step == total || step % Math.Max(1, total / 10) == 0);
    }
}
