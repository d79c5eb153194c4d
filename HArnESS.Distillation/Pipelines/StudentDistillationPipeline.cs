using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HArnESS.Checkpoints;
using HArnESS.Data;
using HArnESS.Distillation.Students;
using HArnESS.Distillation.Targets;
using HArnESS.Serialization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// Students from one teacher in one call: each <see cref="StudentSpec"/> (by default HArnESS's HS and HST) is
/// distilled through the fluent <see cref="Distillation"/> plan, saved, and recorded in the run folder's
/// <c>pipeline.json</c> (<see cref="SelfDistillationManifest.Students"/>). A rerun skips every student whose
/// signature (the teacher's weights, its config and the options) is unchanged, and resumes an unfinished one from its
/// trainer checkpoints. The plain path is <see cref="RunAsync"/> with a given pretrained teacher; after iterative
/// self-distillation <see cref="SelfDistillationOptions.Students"/> runs the same stage on the final HL teacher, in
/// the same run folder.
/// </summary>
public static class StudentDistillationPipeline
{
    /// <summary>Subfolder of the run folder that holds one folder per student.</summary>
    public const string StudentsFolder = "students";

    /// <summary>Distils every student from <paramref name="teacher"/> (or skips those finished before) on the calling
    /// thread; the returned task is complete when this returns. Every student's plan is validated against the teacher
    /// before the first one trains.</summary>
    /// <param name="teacher">The frozen teacher (not owned), e.g. <c>DistillationTeacher.Load(dir)</c>.</param>
    /// <param name="options">What to distil; validated first (thrown before the task is returned).</param>
    /// <param name="progress">One report per stage of every student and per trainer report.</param>
    /// <param name="cancellationToken">Checked between steps (the trainer checkpoints on cancellation).</param>
    /// <exception cref="HArnessValidationException">The options are invalid or a student does not fit the teacher
    /// (every problem named, under <c>Students[i]</c>).</exception>
    public static Task<StudentDistillationResult> RunAsync(DistillationTeacher teacher, StudentDistillationOptions options,
        IProgress<StudentDistillationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(options);
        var errors = new ValidationErrors();
        options.Validate(errors);
        errors.ThrowIfAny(nameof(StudentDistillationOptions));
        var specs = options.Students ?? StudentDistillationOptions.DefaultStudents(teacher.Config);
        var plans = Plans(teacher, options, specs, options.TrainManifest, options.ValidManifest);
        try
        {
            var outDir = Path.GetFullPath(options.OutputDir);
            var log = options.LoggerFactory.CreateLogger("HArnESS.Distillation.Pipelines.StudentDistillationPipeline");
            return Task.FromResult(Run(plans, specs, TeacherSignature(teacher), options, outDir, progress, log, cancellationToken));
        }
        catch (OperationCanceledException ex)
        {
            return Task.FromCanceled<StudentDistillationResult>(ex.CancellationToken.IsCancellationRequested ? ex.CancellationToken : new CancellationToken(true));
        }
        catch (Exception ex)
        {
            return Task.FromException<StudentDistillationResult>(ex);
        }
    }

    /// <summary>One validated plan per student; every problem of every student at once.</summary>
    internal static IReadOnlyList<DistillationBuilder> Plans(DistillationTeacher teacher, StudentDistillationOptions o, IReadOnlyList<StudentSpec> specs,
        string train, string? valid)
    {
        var errors = new ValidationErrors();
        var plans = new List<DistillationBuilder>();
        for (var i = 0; i < specs.Count; i++)
        {
            var plan = Distillation.From(teacher).Into(specs[i].Config).With(new DistillationOptions
            {
                Loss = o.Loss, Initialization = o.Initialization, FrontEndDistillation = o.FrontEndDistillation, TrainManifest = train,
                ValidManifest = valid, Trainer = o.Trainer with { LoggerFactory = o.LoggerFactory }, Loader = o.Loader, ValidLoader = o.ValidLoader,
            });
            try { plan.Validate(); }
            catch (HArnessValidationException ex) { errors.AddRange(ex.Errors, $"Students[{i}] ({specs[i].Name})"); }
            plans.Add(plan);
        }
        errors.ThrowIfAny("Student distillation");
        return plans;
    }

    /// <summary>Runs the validated plans into <paramref name="outDir"/>'s manifest (kept: its iterations are not touched).</summary>
    internal static StudentDistillationResult Run(IReadOnlyList<DistillationBuilder> plans, IReadOnlyList<StudentSpec> specs, string teacherSignature,
        StudentDistillationOptions o, string outDir, IProgress<StudentDistillationProgress>? progress, ILogger log, CancellationToken ct)
    {
        Directory.CreateDirectory(outDir);
        var manifestPath = Path.Combine(outDir, SelfDistillationManifest.FileName);
        var results = new List<StudentRunResult>();
        for (var i = 0; i < plans.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var spec = specs[i];
            var index = i;
            void Report(DistillationStage stage, string message, bool reused = false) =>
                progress?.Report(new StudentDistillationProgress(spec.Name, index, plans.Count, stage, $"student {spec.Name} ({index + 1}/{plans.Count}) {message}", reused));
            var plan = plans[i];
            var signature = Signature(plan, spec, teacherSignature, o.Seed + i);
            var folder = Path.Combine(outDir, StudentsFolder, $"{spec.Name}-{signature[..10]}");
            var manifest = SelfDistillationManifest.TryLoad(manifestPath) ?? new SelfDistillationManifest();
            var existing = manifest.Student(spec.Name);
            if (existing is not null && existing.Signature == signature
                && File.Exists(Path.Combine(outDir, existing.Student, DistillationStudent.StudentConfigFileName)))
            {
                log.LogInformation("Student {Name}: finished before with the same signature, skipped ({Folder})", spec.Name, existing.Folder);
                Report(DistillationStage.Done, string.Create(CultureInfo.InvariantCulture,
                    $"done: reused (finished before): regression {existing.FirstRegression:F3} → {existing.FinalRegression:F3}"), true);
                results.Add(new StudentRunResult(existing, true, 0, Path.Combine(outDir, existing.Student)));
                continue;
            }

            Directory.CreateDirectory(folder);
            var checkpoints = Path.Combine(folder, "checkpoints");
            var run = plan.With(plan.Options with { Trainer = plan.Options.Trainer with { CheckpointDirectory = checkpoints } });
            torch.manual_seed(o.Seed + i);
            var inner = new SyncProgress<DistillationProgress>(p => Report(p.Stage, p.Message));
            var result = run.RunAsync(inner, ct).GetAwaiter().GetResult();
            DistilledStudent record;
            long trained;
            using (var student = result.Student)
            {
                var studentDir = Path.Combine(folder, "student");
                student.Save(studentDir);
                double Mean(string term, bool first)
                {
                    var v = result.Training.History.Series(term).Select(x => x.Value).ToArray();
                    if (v.Length == 0) return double.NaN;
                    var n = Math.Min(10, v.Length);
                    return (first ? v[..n] : v[^n..]).Average();
                }
                var hasKl = o.Loss.Discriminative is not null;
                var rel = (string p) => Path.GetRelativePath(outDir, p);
                record = new DistilledStudent(spec.Name, signature, rel(folder), rel(studentDir), result.TeacherLayers, student.CountParameters(includeHeads: false),
                    result.Training.Steps, result.FrontEndTraining?.Steps ?? 0, Mean("regression", true), Mean("regression", false),
                    hasKl ? Mean("kl", true) : null, hasKl ? Mean("kl", false) : null, result.CosineBefore, result.CosineAfter);
                trained = result.Training.Steps - (result.Training.ResumedFromStep ?? 0)
                    + (result.FrontEndTraining is { } fe ? fe.Steps - (fe.ResumedFromStep ?? 0) : 0);
            }
            AtomicFile.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true }));
            manifest = SelfDistillationManifest.TryLoad(manifestPath) ?? new SelfDistillationManifest();
            manifest = manifest with { Students = manifest.Students.Where(s => s.Name != spec.Name).Append(record).ToArray() };
            manifest.Save(manifestPath);
            log.LogInformation("Student {Name}: {Steps} updates ({Trained} this run), regression {First:F3} → {Final:F3}, student in {Dir}",
                spec.Name, record.Steps, trained, record.FirstRegression, record.FinalRegression, record.Student);
            results.Add(new StudentRunResult(record, false, trained, Path.Combine(outDir, record.Student)));
        }
        return new StudentDistillationResult(outDir, results);
    }

    /// <summary>Everything that decides a student's products, chained to the teacher's signature.</summary>
    private static string Signature(DistillationBuilder plan, StudentSpec spec, string teacherSignature, long seed)
    {
        var o = plan.Options;
        static string M(string path)
        {
            var m = Manifest.Load(path);
            return string.Create(CultureInfo.InvariantCulture, $"{Path.GetFullPath(path)}; {m.Count} entries; {m.TotalSamples} samples");
        }
        static string L(IReadOnlyList<int>? l) => l is null ? "null" : string.Join(",", l);
        static string D(IReadOnlyList<double>? l) => l is null ? "null" : string.Join(",", l.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        var trainer = o.Trainer with
        {
            CheckpointDirectory = null, Device = null, LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            RunConfig = new Dictionary<string, string>(),
        };
        var sb = new StringBuilder()
            .AppendLine("students v1")
            .AppendLine("teacher " + teacherSignature)
            .AppendLine("name " + spec.Name)
            .AppendLine(plan.StudentConfig!.ToJson())
            .AppendLine(CultureInfo.InvariantCulture, $"regression {o.Loss.Regression}; layer weights {D(o.Loss.Regression.LayerWeights)}; discriminative {o.Loss.Discriminative?.ToString() ?? "none"}")
            .AppendLine(CultureInfo.InvariantCulture, $"init {(o.Initialization is { } init ? $"{init.FrontEnd}; {L(init.LayerMap)}" : "none")}")
            .AppendLine(CultureInfo.InvariantCulture, $"front-end {(o.FrontEndDistillation is { } fe ? $"{fe.Steps}; {fe.LearningRate}; {fe.Loss}; {D(fe.Loss.LayerWeights)}" : "none")}")
            .AppendLine(CultureInfo.InvariantCulture, $"compact {o.CompactComponents}; {o.CompactionUtterances}")
            .AppendLine(trainer.ToString())
            .AppendLine(string.Join("; ", o.Trainer.RunConfig.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")))
            .AppendLine((o.Loader with { Prefetch = 0 }).ToString())
            .AppendLine((o.ValidLoader with { Prefetch = 0 }).ToString())
            .AppendLine(CultureInfo.InvariantCulture, $"seed {seed}")
            .AppendLine("train " + M(o.TrainManifest))
            .AppendLine("valid " + (o.ValidManifest is null ? "none" : M(o.ValidManifest)));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>A signature of a teacher in memory: its config and the weights hash (<see cref="ModuleWeightsHash"/>, the
    /// one the targets pipeline signs dumps with) of its encoder and of its head.</summary>
    internal static string TeacherSignature(DistillationTeacher teacher) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            "teacher v2\n" + HfConfigJson.ToJson(teacher.Config) + "\nencoder " + ModuleWeightsHash.Compute(teacher.Encoder) +
            "\nhead " + (teacher.Head is null ? "none" : ModuleWeightsHash.Compute(teacher.Head)))));

    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
