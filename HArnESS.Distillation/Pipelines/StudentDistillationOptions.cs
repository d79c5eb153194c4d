using HArnESS.Data;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Distillation.Pipelines;

/// <summary>One student of a <see cref="StudentDistillationPipeline"/> run.</summary>
/// <param name="Name">Its name (letters, digits, '-', '_'): the folder <c>students/{Name}-{signature}</c> and the
/// manifest entry (e.g. "hs", "hst").</param>
/// <param name="Config">Its shape and heads; the run's <see cref="StudentDistillationOptions.Loss"/> adds the code
/// projection the discriminative loss needs (<c>CodeDim</c>) when the config has none.</param>
public sealed record StudentSpec(string Name, DistillationStudentConfig Config);

/// <summary>
/// What <see cref="StudentDistillationPipeline"/> distils from one teacher: a list of students (by default HArnESS's
/// HS and HST for the teacher's shape, <see cref="DefaultStudents"/>), each through the fluent
/// <see cref="Distillation"/> plan with the same losses, initialisation and trainer, into one run folder
/// (<c>pipeline.json</c>, <see cref="SelfDistillationManifest.Students"/>). Used alone (the plain path: a given
/// pretrained teacher → HS and HST) or as <see cref="SelfDistillationOptions.Students"/> after the last
/// self-distillation iteration (then the corpus and folder default to the pipeline's). Immutable; validated with
/// the teacher before any work.
/// </summary>
public sealed record StudentDistillationOptions
{
    /// <summary>The training manifest. Required on the plain path; empty after self-distillation = the pipeline's.</summary>
    public string TrainManifest { get; init; } = "";

    /// <summary>Held-out manifest for the per-layer cosine report (before and after training); null = none on the
    /// plain path, the pipeline's after self-distillation.</summary>
    public string? ValidManifest { get; init; }

    /// <summary>The run folder (plain path; required there). After self-distillation the pipeline's folder is used.</summary>
    public string OutputDir { get; init; } = "";

    /// <summary>The students, in order; null (default) = <see cref="DefaultStudents"/> of the teacher.</summary>
    public IReadOnlyList<StudentSpec>? Students { get; init; }

    /// <summary>The losses (default regression + Wang et al.'s discriminative loss, weight 1, as the HArnESS recipe;
    /// a teacher without a codebook needs <c>new DistillationLossOptions()</c>, regression alone).</summary>
    public DistillationLossOptions Loss { get; init; } = new DistillationLossOptions().WithDiscriminative();

    /// <summary>Initialisation of every student from the teacher (see <see cref="DistillationInitialization"/>; copies
    /// need equal shapes, so a thin student takes at most the CNN); null (default) = random weights.</summary>
    public DistillationInitialization? Initialization { get; init; }

    /// <summary>Stage 1 of the front-end distillation for every student; null (default) = none.</summary>
    public FrontEndDistillationOptions? FrontEndDistillation { get; init; }

    /// <summary>The trainer of every student (MaxSteps required; the pipeline sets a checkpoint folder per student,
    /// so an interrupted run resumes, and <see cref="TrainerOptions.CheckpointEvery"/> decides how often).</summary>
    public TrainerOptions Trainer { get; init; } = new() { MaxSteps = 1000, CheckpointEvery = 100 };

    /// <summary>How training batches are formed.</summary>
    public AudioLoaderOptions Loader { get; init; } = new() { BatchSize = 8, MaxSampleSize = 250_000 };

    /// <summary>How held-out batches are formed (no shuffle).</summary>
    public AudioLoaderOptions ValidLoader { get; init; } = new() { BatchSize = 8, Shuffle = false };

    /// <summary>Seed of every student's initial weights (libtorch's global generator is seeded with <c>Seed + i</c>
    /// before student i, 0-based, is built; default 1).</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Receives skips, runs and the trainers' logs.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>HArnESS's two students for a teacher: <c>hs</c> = <see cref="StudentPresets.Hs"/> (2 layers at the
    /// teacher's width) and <c>hst</c> = <see cref="StudentPresets.Hst"/> (2 layers at half the width, rounded down to a
    /// multiple of 16, FFN 4 × width), both with the teacher's front-end and prediction heads for teacher layers L/3,
    /// 2L/3, L (HArnESS's choice: the paper does not publish its sizes).</summary>
    /// <param name="teacher">The teacher's config.</param>
    public static IReadOnlyList<StudentSpec> DefaultStudents(SpeechEncoderConfig teacher)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        var width = Math.Max(16, teacher.HiddenSize / 2 / 16 * 16);
        return
        [
            new("hs", StudentPresets.Hs(teacher.HiddenSize, teacher.NumLayers, frontEnd: teacher.FrontEnd)),
            new("hst", StudentPresets.Hst(width, teacherDim: teacher.HiddenSize, teacherLayers: teacher.NumLayers, frontEnd: teacher.FrontEnd)),
        ];
    }

    /// <summary>Adds every invalid value that needs no teacher to <paramref name="errors"/>.</summary>
    /// <param name="errors">The collector.</param>
    /// <param name="standalone">True on the plain path (the corpus and folder are required), false inside
    /// <see cref="SelfDistillationOptions"/> (empty ones take the pipeline's).</param>
    /// <param name="prefix">Prefix of every option name (e.g. "Students"), or null.</param>
    public void Validate(ValidationErrors errors, bool standalone = true, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(errors);
        string N(string name) => prefix is null ? name : $"{prefix}.{name}";
        if (standalone || !string.IsNullOrEmpty(TrainManifest))
            errors.Require(!string.IsNullOrWhiteSpace(TrainManifest) && File.Exists(TrainManifest), N(nameof(TrainManifest)),
                $"TrainManifest must be an existing .tsv manifest, got '{TrainManifest}'.");
        errors.Require(ValidManifest is null || File.Exists(ValidManifest), N(nameof(ValidManifest)), $"ValidManifest '{ValidManifest}' does not exist.");
        if (standalone) errors.Require(!string.IsNullOrWhiteSpace(OutputDir), N(nameof(OutputDir)), "OutputDir must name the run folder.");
        if (Students is not null)
        {
            if (Students.Count == 0) errors.Add(N(nameof(Students)), "Students must name at least one student (or be null for HS and HST).");
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < Students.Count; i++)
            {
                var s = Students[i];
                var name = N($"{nameof(Students)}[{i}]");
                if (s is null) { errors.Add(name, $"{name} must not be null."); continue; }
                if (string.IsNullOrEmpty(s.Name) || !s.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                    errors.Add(name + ".Name", $"{name}.Name must be letters, digits, '-' or '_', got '{s.Name}'.");
                else if (!seen.Add(s.Name)) errors.Add(name + ".Name", $"{name}.Name '{s.Name}' is used twice.");
                if (s.Config is null) errors.Add(name + ".Config", $"{name}.Config must not be null.");
                else
                {
                    var inner = new ValidationErrors();
                    s.Config.Validate(inner);
                    errors.AddRange(inner.Errors, name + ".Config");
                }
            }
        }
        if (Loss is null) errors.Add(N(nameof(Loss)), "Loss must not be null.");
        else
        {
            var inner = new ValidationErrors();
            Loss.Validate(inner);
            errors.AddRange(inner.Errors, prefix);
        }
        if (FrontEndDistillation is not null)
        {
            var inner = new ValidationErrors();
            FrontEndDistillation.Validate(inner);
            errors.AddRange(inner.Errors, prefix);
        }
        Collect(errors, N(nameof(Trainer)), Trainer is null ? null : Trainer.Validate);
        Collect(errors, N(nameof(Loader)), Loader is null ? null : Loader.Validate);
        Collect(errors, N(nameof(ValidLoader)), ValidLoader is null ? null : ValidLoader.Validate);
        errors.Require(LoggerFactory is not null, N(nameof(LoggerFactory)), "LoggerFactory must not be null.");
    }

    private static void Collect(ValidationErrors e, string name, Action? validate)
    {
        if (validate is null) { e.Add(name, $"{name} must not be null."); return; }
        try { validate(); }
        catch (HArnessValidationException ex) { e.AddRange(ex.Errors, name); }
        catch (HArnessConfigException ex) { e.Add(name, ex.Message); }
    }
}
