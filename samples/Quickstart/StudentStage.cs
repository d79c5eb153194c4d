using System.Globalization;
using HArnESS.Data;
using HArnESS.Distillation;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;
using HArnESS.Training;

namespace HArnESS.Samples.Quickstart;

/// <summary>Stage 2: the students, each distilled from the teacher with <see cref="Distillation"/>'s fluent plan:
/// regression (L1 − log σ(cos), DistilHuBERT) plus the discriminative loss over the teacher's codebook, initialised
/// from the teacher, then saved as <c>model.safetensors</c> + <c>config.json</c> (+ the student's heads).</summary>
internal static class StudentStage
{
    /// <summary>One distilled student.</summary>
    /// <param name="Spec">Its recipe.</param>
    /// <param name="Student">The trained student (owned by the caller).</param>
    /// <param name="Folder">Where it was saved (absolute).</param>
    /// <param name="Outcome">What the distillation reported (layer cosines, initialisation).</param>
    public sealed record Result(Recipe.Student Spec, DistillationStudent Student, string Folder, DistillationResult Outcome);

    public static IReadOnlyList<Result> Run(QuickstartOptions o, DistillationTeacher teacher, ConsoleLog log, CancellationToken ct)
    {
        var results = new List<Result>();
        foreach (var spec in Recipe.Students(teacher.Config))
        {
            ct.ThrowIfCancellationRequested();
            log.Stage($"Student {spec.Name}: {spec.Config.Encoder.NumLayers} layers × {spec.Config.Encoder.HiddenSize}, {spec.Config.Encoder.FrontEnd.GetType().Name.Replace("Config", "", StringComparison.Ordinal)}, " +
                      $"predicting teacher layers {string.Join(", ", spec.Config.TeacherLayers)}" +
                      (spec.CompactTargets is { } k ? $" (top {k} PCA components)" : "") + $", {o.Steps} updates");
            var plan = Distillation.Distillation.From(teacher)
                .Into(spec.Config)
                .PredictLayers([.. spec.Config.TeacherLayers])
                .Loss(l => teacher.HasCodebook ? l.WithDiscriminative(0.5) : l)
                .Initialize(spec.Initialization)
                .Train(o.TrainManifest, t => t with
                {
                    MaxSteps = o.Steps, LearningRate = 2e-3, Schedule = LearningRateSchedule.WarmupLinear(Math.Max(1, o.Steps / 10), 0.1),
                    MaxGradientNorm = 5, Device = HArnESS.Runtime.HArnessRuntime.Device,
                }, new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 32_000, Seed = 3 })
                .Evaluate(o.ValidManifest, new AudioLoaderOptions { BatchSize = 8, Shuffle = false });
            if (spec.CompactTargets is { } components) plan = plan.CompactTargets(components);
            var progress = new ConsoleLog.Sync<DistillationProgress>(p =>
            {
                if (p.Stage != DistillationStage.Training || ConsoleLog.Worth(p.Training)) log.Detail(p.Message);
            });
            var outcome = plan.RunAsync(progress, ct).GetAwaiter().GetResult();
            var folder = Path.Combine(o.Output, "models", spec.Name);
            outcome.Student.Save(folder);
            log.Detail(string.Create(CultureInfo.InvariantCulture,
                $"{outcome.Student.Encoder.CountParameters():N0} encoder parameters ({outcome.Student.CountParameters():N0} with the prediction heads) → {folder}"));
            results.Add(new Result(spec, outcome.Student, folder, outcome));
        }
        return results;
    }
}
