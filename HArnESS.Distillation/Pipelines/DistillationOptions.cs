using HArnESS.Data;
using HArnESS.Training;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// Everything about a distillation run apart from the two models: which teacher layers the student predicts,
/// the losses, the initialisation, optional PCA compaction of the targets, the corpus and the trainer. Immutable;
/// <see cref="DistillationBuilder"/> is a thin fluent layer over it and validates it with the models before the
/// first step.
/// </summary>
public sealed record DistillationOptions
{
    /// <summary>The teacher hidden states to predict (HF convention: 0 = input to the first layer); null (default) =
    /// the student config's own <c>TeacherLayers</c>.</summary>
    public IReadOnlyList<int>? TeacherLayers { get; init; }

    /// <summary>The losses (default: DistilHuBERT's regression alone).</summary>
    public DistillationLossOptions Loss { get; init; } = new();

    /// <summary>Initialisation from the teacher; null (default) = the student's own (random) weights.</summary>
    public DistillationInitialization? Initialization { get; init; }

    /// <summary>Predict each teacher layer projected on its top-k principal components (HArnESS's PCA-compacted
    /// supervision; the PCA is fitted on the training corpus's teacher frames before the first step) instead of the
    /// full width; null (default) = full width. Sets the student config's <c>CompactDim</c>.</summary>
    public int? CompactComponents { get; init; }

    /// <summary>Utterances of the training corpus the compaction PCA is fitted on (the first ones; default 200).</summary>
    public int CompactionUtterances { get; init; } = 200;

    /// <summary>Wang et al.'s front-end distillation before the usual losses: stage 1 trains only the student's
    /// front-end (through a projection) to match the teacher's <c>hidden_states[0]</c> for
    /// <see cref="FrontEndDistillationOptions.Steps"/> updates; null (default) = no stage 1.</summary>
    public FrontEndDistillationOptions? FrontEndDistillation { get; init; }

    /// <summary>The training manifest (fairseq <c>.tsv</c>). Required.</summary>
    public string TrainManifest { get; init; } = "";

    /// <summary>Held-out manifest for the trainer's validation loss and the per-layer cosine report; null = none.</summary>
    public string? ValidManifest { get; init; }

    /// <summary>The trainer (MaxSteps required; set CheckpointDirectory to make the run resumable).</summary>
    public TrainerOptions Trainer { get; init; } = new() { MaxSteps = 1000 };

    /// <summary>How training batches are formed (default 8 utterances, 250,000-sample random crops).</summary>
    public AudioLoaderOptions Loader { get; init; } = new() { BatchSize = 8, MaxSampleSize = 250_000 };

    /// <summary>How held-out batches are formed (no shuffle).</summary>
    public AudioLoaderOptions ValidLoader { get; init; } = new() { BatchSize = 8, Shuffle = false };

    /// <summary>Adds every invalid value that needs no model to <paramref name="errors"/>.</summary>
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Require(!string.IsNullOrWhiteSpace(TrainManifest) && File.Exists(TrainManifest), nameof(TrainManifest),
            $"TrainManifest must be an existing .tsv manifest, got '{TrainManifest}' (call .Train(manifest, …)).");
        errors.Require(ValidManifest is null || File.Exists(ValidManifest), nameof(ValidManifest), $"ValidManifest '{ValidManifest}' does not exist.");
        errors.Require(TeacherLayers is null || TeacherLayers.Count > 0, nameof(TeacherLayers), "TeacherLayers must name at least one layer.");
        errors.Require(CompactComponents is null or >= 1, nameof(CompactComponents), $"CompactComponents must be at least 1, got {CompactComponents}.");
        errors.Require(CompactionUtterances >= 1, nameof(CompactionUtterances), $"CompactionUtterances must be at least 1, got {CompactionUtterances}.");
        FrontEndDistillation?.Validate(errors);
        if (Loss is null) errors.Add(nameof(Loss), "Loss must not be null.");
        else Loss.Validate(errors);
        Collect(errors, nameof(Trainer), Trainer is null ? null : Trainer.Validate);
        Collect(errors, nameof(Loader), Loader is null ? null : Loader.Validate);
        Collect(errors, nameof(ValidLoader), ValidLoader is null ? null : ValidLoader.Validate);
    }

    private static void Collect(ValidationErrors e, string name, Action? validate)
    {
        if (validate is null) { e.Add(name, $"{name} must not be null."); return; }
        try { validate(); }
        catch (HArnessValidationException ex) { e.AddRange(ex.Errors, name); }
        catch (HArnessConfigException ex) { e.Add(name, ex.Message); }
    }
}
