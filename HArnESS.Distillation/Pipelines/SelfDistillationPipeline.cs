using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HArnESS.Checkpoints;
using HArnESS.Data;
using HArnESS.Distillation.Pretraining;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Serialization;
using HArnESS.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// HArnESS's iterative self-distillation (the HL teacher) in one call: for each of K iterations, targets (MFCC-39
/// k-means first, then k-means of a layer of the previous iteration's model, optionally PCA-compacted) → labels of
/// the held-out split with the same codebook → masked pre-training of a fresh model (<see cref="MaskedPretrainingObjective"/>
/// on the <see cref="Trainer{TBatch}"/>) → held-out masked-prediction accuracy → the model saved with its codebook.
/// Everything lives in one run folder described by <see cref="SelfDistillationManifest"/>; a rerun skips finished
/// iterations (same signature) and resumes an unfinished one: the targets pipeline reuses its finished stages and
/// the trainer resumes from its latest checkpoint.
/// </summary>
public static class SelfDistillationPipeline
{
    /// <summary>Runs (or resumes) the pipeline on the calling thread; the returned task is complete when this returns.</summary>
    /// <param name="options">What to run; validated first (thrown before the task is returned).</param>
    /// <param name="progress">Receives one report per meaningful step of every stage.</param>
    /// <param name="cancellationToken">Checked between steps; the trainer writes a checkpoint when cancelled, so a
    /// rerun continues from there.</param>
    /// <exception cref="HArnessValidationException">The options are invalid (every problem named).</exception>
    public static Task<SelfDistillationResult> RunAsync(SelfDistillationOptions options, IProgress<SelfDistillationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        try
        {
            return Task.FromResult(Run(options, progress, cancellationToken));
        }
        catch (OperationCanceledException ex)
        {
            return Task.FromCanceled<SelfDistillationResult>(ex.CancellationToken.IsCancellationRequested ? ex.CancellationToken : new CancellationToken(true));
        }
        catch (Exception ex)
        {
            return Task.FromException<SelfDistillationResult>(ex);
        }
    }

    private static SelfDistillationResult Run(SelfDistillationOptions o, IProgress<SelfDistillationProgress>? progress, CancellationToken ct)
    {
        Runtime.HArnessRuntime.EnsureInitialized();
        var log = o.LoggerFactory.CreateLogger("HArnESS.Distillation.Pipelines.SelfDistillationPipeline");
        var outDir = Path.GetFullPath(o.OutputDir);
        Directory.CreateDirectory(outDir);
        var manifestPath = Path.Combine(outDir, SelfDistillationManifest.FileName);
        var train = Manifest.Load(o.TrainManifest);
        var valid = Manifest.Load(o.ValidManifest);
        var records = (SelfDistillationManifest.TryLoad(manifestPath)?.Iterations ?? []).ToList();
        var results = new List<SelfDistillationIterationResult>();
        var previousSignature = "";
        string? previousModel = null;
        for (var i = 1; i <= o.Iterations; i++)
        {
            ct.ThrowIfCancellationRequested();
            var it = i;
            void Report(SelfDistillationStage stage, string message, bool reused = false) =>
                progress?.Report(new SelfDistillationProgress(it, o.Iterations, stage, $"iteration {it}/{o.Iterations} {message}", reused));
            var signature = Signature(o, train, valid, i, previousSignature);
            var folderName = $"iter-{i}-{signature[..10]}";
            var folder = Path.Combine(outDir, folderName);
            var existing = records.FirstOrDefault(r => r.Iteration == i);
            if (existing is not null && existing.Signature == signature && File.Exists(Path.Combine(outDir, existing.Model, "config.json")))
            {
                log.LogInformation("Iteration {Iteration}: finished before with the same signature, skipped ({Folder})", i, existing.Folder);
                Report(SelfDistillationStage.Done, string.Create(CultureInfo.InvariantCulture,
                    $"done: reused (finished before): held-out masked accuracy {existing.MaskedAccuracy:P1} (chance {existing.Chance:P1})"), true);
                results.Add(new SelfDistillationIterationResult(existing, true, false, 0, null));
                previousSignature = signature;
                previousModel = Path.Combine(outDir, existing.Model);
                continue;
            }

            var (record, fitted, steps, resumed) = RunIteration(o, train, valid, i, signature, outDir, folder, previousModel, Report, log, ct);
            records = records.Where(r => r.Iteration < i).Append(record).ToList();
            (SelfDistillationManifest.TryLoad(manifestPath) ?? new SelfDistillationManifest()).WithIterations(records).Save(manifestPath);
            results.Add(new SelfDistillationIterationResult(record, false, fitted, steps, resumed));
            previousSignature = signature;
            previousModel = Path.Combine(outDir, record.Model);
        }
        StudentDistillationResult? students = null;
        if (o.Students is { } so)
        {
            ct.ThrowIfCancellationRequested();
            var finalSignature = results[^1].Record.Signature;
            using var teacher = Students.DistillationTeacher.Load(previousModel!);
            var specs = so.Students ?? StudentDistillationOptions.DefaultStudents(teacher.Config);
            var trainPath = string.IsNullOrEmpty(so.TrainManifest) ? o.TrainManifest : so.TrainManifest;
            var validPath = so.ValidManifest ?? o.ValidManifest;
            var plans = StudentDistillationPipeline.Plans(teacher, so with { LoggerFactory = o.LoggerFactory }, specs, trainPath, validPath);
            var sp = progress is null ? null : new SyncProgress<StudentDistillationProgress>(p =>
                progress.Report(new SelfDistillationProgress(o.Iterations, o.Iterations, SelfDistillationStage.Students, p.Message, p.Reused)));
            students = StudentDistillationPipeline.Run(plans, specs, "self-distillation " + finalSignature, so, outDir, sp, log, ct);
        }
        return new SelfDistillationResult(outDir, results, previousModel!) { Students = students };
    }

    private static (SelfDistillationIteration Record, bool FittedKMeans, long Steps, long? Resumed) RunIteration(
        SelfDistillationOptions o, Manifest train, Manifest valid, int i, string signature, string outDir, string folder, string? previousModel,
        Action<SelfDistillationStage, string, bool> report, ILogger log, CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        var k = o.ClustersOf(i);
        var targetsDir = Path.Combine(folder, "targets");
        SpeechEncoder? teacher = null;
        try
        {
            // 1. targets
            var kmeans = o.KMeans with { Clusters = k };
            var plan = TargetGenerator.From(train).Split("train").KMeans(k, _ => kmeans).Logging(o.LoggerFactory).Into(targetsDir);
            IUtteranceFeatureReader reader;
            double labelRate;
            string features;
            if (i == 1)
            {
                plan = plan.Mfcc39();
                reader = new Mfcc39FeatureReader();
                labelRate = o.Encoder.SampleRate / 160.0; // MFCC's 10 ms hop
                features = "mfcc39";
            }
            else
            {
                teacher = SpeechEncoder.Load(previousModel!);
                var layer = o.ResolvedFeatureLayer;
                plan = plan.Layer(teacher, layer);
                if (o.PcaComponents is { } c) plan = plan.Pca(c);
                reader = new TeacherLayerFeatureReader(teacher, layer);
                labelRate = MaskedPretrainingObjective.FramesPerSecond(teacher.Config);
                features = $"layer {layer} of iteration {i - 1}" + (o.PcaComponents is { } pc ? $", PCA {pc}" : "");
            }
            report(SelfDistillationStage.Targets, $"targets: {features}, K = {k}", false);
            var targetProgress = new SyncProgress<TargetProgress>(p => report(SelfDistillationStage.Targets, "targets: " + p.Message, p.Reused));
            using var fitted = plan.FitAsync(targetProgress, ct).GetAwaiter().GetResult();
            var fittedKMeans = !fitted.Reused.Contains(TargetStage.KMeans);
            if (fitted.Pca is { } pca)
                log.LogInformation("Iteration {Iteration}: PCA keeps {Components} components, {Variance:P1} of the variance", i, pca.ComponentCount, pca.RetainedVarianceRatio);

            // 2. held-out labels
            var validKm = Path.Combine(folder, "valid.km");
            var lines = HeldOutLabels.Write(reader, fitted.Pca, fitted.Codebook, valid, validKm, null, ct);
            report(SelfDistillationStage.HeldOutLabels, $"held-out labels: {lines} utterances → {validKm}", false);

            // 3. masked pre-training
            torch.manual_seed(o.Seed + i);
            using var encoder = new SpeechEncoder(o.Encoder);
            using var head = new MaskedPredictionHead(encoder.HiddenSize, k, o.FinalDim);
            var objective = new MaskedPretrainingObjective(encoder, head, o.Pretraining with { LabelRate = labelRate });
            var trainSet = new AudioDataset(train, null, [LabelFile.Load(fitted.LabelPath, train, LabelKind.Units)]);
            var validSet = new AudioDataset(valid, null, [LabelFile.Load(validKm, valid, LabelKind.Units)]);
            var trainSource = new AudioLoaderBatchSource(new AudioLoader(trainSet, o.TrainLoader));
            var validSource = new AudioLoaderBatchSource(new AudioLoader(validSet, o.ValidLoader));
            var runConfig = new Dictionary<string, string>(o.Trainer.RunConfig, StringComparer.Ordinal)
            {
                ["pipeline.iteration"] = i.ToString(CultureInfo.InvariantCulture),
                ["pipeline.signature"] = signature,
            };
            var trainerOptions = o.Trainer with
            {
                CheckpointDirectory = Path.Combine(folder, "checkpoints"), LoggerFactory = o.LoggerFactory, RunConfig = runConfig,
            };
            TrainingResult result;
            using (var trainer = new Trainer<AudioBatch>(objective.Modules, objective, trainSource, trainerOptions, validSource, objective))
            {
                var trainProgress = new SyncProgress<TrainingProgress>(p => report(SelfDistillationStage.Training, "training: " + p, false));
                result = trainer.Run(trainProgress, ct);
            }
            var stepsTrained = result.Steps - (result.ResumedFromStep ?? 0);
            var losses = result.History.Series("loss").Select(v => v.Value).ToArray();
            var finalLoss = losses.Length == 0 ? double.NaN : losses[^Math.Min(10, losses.Length)..].Average();

            // 4. held-out accuracy of the final model
            // A loader of its own (no prefetch thread), not the one the trainer validated with.
            var heldOut = new AudioLoader(validSet, o.ValidLoader with { Prefetch = 0 });
            var accuracy = objective.Evaluate(heldOut, o.Seed, null, ct);
            var majority = MajorityRate(LabelFile.Load(validKm, valid, LabelKind.Units), valid.Count);
            report(SelfDistillationStage.Evaluation, string.Create(CultureInfo.InvariantCulture,
                $"evaluation: held-out masked accuracy {accuracy.Value:P1} over {accuracy.Count} masked frames (chance 1/K = {1.0 / k:P1}, majority unit {majority:P1})"), false);

            // 5. the model, the report, the record
            var modelDir = Path.Combine(folder, "model");
            PretrainedModel.Save(encoder, head, modelDir);
            var rel = (string p) => Path.GetRelativePath(outDir, p);
            var record = new SelfDistillationIteration(i, signature, rel(folder), features, k, labelRate, rel(targetsDir), rel(validKm), rel(modelDir),
                result.Steps, finalLoss, accuracy.Value, accuracy.Count, 1.0 / k, majority);
            AtomicFile.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true }));
            log.LogInformation("Iteration {Iteration}: {Steps} updates ({Trained} this run), held-out masked accuracy {Accuracy:P1} (chance {Chance:P1}), model in {Model}",
                i, result.Steps, stepsTrained, accuracy.Value, 1.0 / k, modelDir);
            report(SelfDistillationStage.Done, $"done: model → {modelDir}", false);
            return (record, fittedKMeans, stepsTrained, result.ResumedFromStep);
        }
        finally
        {
            teacher?.Dispose();
        }
    }

    private static double MajorityRate(LabelFile labels, int count)
    {
        var counts = new Dictionary<int, long>();
        long total = 0;
        for (var u = 0; u < count; u++)
            foreach (var unit in labels.Units(u))
            {
                counts[unit] = counts.GetValueOrDefault(unit) + 1;
                total++;
            }
        return total == 0 ? double.NaN : counts.Values.Max() / (double)total;
    }

    /// <summary>Everything that decides an iteration's products, chained to the previous iteration's signature.</summary>
    private static string Signature(SelfDistillationOptions o, Manifest train, Manifest valid, int i, string previous)
    {
        static string M(Manifest m) => string.Create(CultureInfo.InvariantCulture, $"{m.SourcePath ?? m.Root}; {m.Count} entries; {m.TotalSamples} samples");
        var trainer = o.Trainer with
        {
            CheckpointDirectory = null, Device = null, LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            RunConfig = new Dictionary<string, string>(),
        };
        var sb = new StringBuilder()
            .AppendLine("self-distillation v1")
            .AppendLine(CultureInfo.InvariantCulture, $"iteration {i}; previous {previous}")
            .AppendLine(HfConfigJson.ToJson(o.Encoder))
            .AppendLine(CultureInfo.InvariantCulture, $"clusters {o.ClustersOf(i)}; layer {(i == 1 ? "mfcc39" : o.ResolvedFeatureLayer.ToString(CultureInfo.InvariantCulture))}; pca {(i == 1 ? "none" : o.PcaComponents?.ToString(CultureInfo.InvariantCulture) ?? "none")}")
            .AppendLine((o.KMeans with { Clusters = o.ClustersOf(i), LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance }).ToString())
            .AppendLine((o.Pretraining with { LabelRate = null }).ToString())
            .AppendLine(trainer.ToString())
            .AppendLine(string.Join("; ", o.Trainer.RunConfig.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")))
            .AppendLine((o.TrainLoader with { Prefetch = 0 }).ToString())
            .AppendLine((o.ValidLoader with { Prefetch = 0 }).ToString())
            .AppendLine(CultureInfo.InvariantCulture, $"final dim {o.FinalDim}; seed {o.Seed}")
            .AppendLine("train " + M(train))
            .AppendLine("valid " + M(valid));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>Forwards reports synchronously, in order, on the reporting thread.</summary>
    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
