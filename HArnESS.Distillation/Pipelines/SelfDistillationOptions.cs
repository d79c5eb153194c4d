using HArnESS.Data;
using HArnESS.Distillation.Pretraining;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// What <see cref="SelfDistillationPipeline"/> runs: HArnESS's iterative self-distillation of an HL teacher. K
/// iterations; iteration 1 clusters MFCC-39 features and pre-trains <see cref="Encoder"/> from scratch by masked
/// prediction; iteration i &gt; 1 clusters <see cref="FeatureLayer"/> of iteration i − 1's model (optionally
/// PCA-compacted) and pre-trains the next model from scratch on those units. Immutable;
/// <see cref="Validate"/> reports every problem at once and runs before anything is computed.
/// </summary>
public sealed record SelfDistillationOptions
{
    /// <summary>The training manifest (fairseq <c>.tsv</c>): k-means is fitted on it and the models train on it. Required.</summary>
    public string TrainManifest { get; init; } = "";

    /// <summary>The held-out manifest: labelled with each iteration's codebook, it gives the masked-prediction accuracy
    /// reported per iteration (and the trainer's validation). Required.</summary>
    public string ValidManifest { get; init; } = "";

    /// <summary>The run folder: <c>pipeline.json</c> (<see cref="SelfDistillationManifest"/>) and one folder per
    /// iteration (<c>iter-{i}-{signature}</c>: <c>targets/</c>, <c>valid.km</c>, <c>checkpoints/</c>, <c>model/</c>,
    /// <c>report.json</c>). Required.</summary>
    public string OutputDir { get; init; } = "";

    /// <summary>Iterations K (default 2), at least 1.</summary>
    public int Iterations { get; init; } = 2;

    /// <summary>Every iteration's model (default HuBERT base with a mask embedding, <c>MaskTimeProb</c> 0.08). It
    /// must have a mask embedding (<c>MaskTimeProb</c> &gt; 0).</summary>
    public SpeechEncoderConfig Encoder { get; init; } = EncoderPresets.HubertBase with { MaskTimeProb = 0.08 };

    /// <summary>Clusters per iteration (default 100 then 500, as HuBERT); iterations past the list's end use its last value.</summary>
    public IReadOnlyList<int> Clusters { get; init; } = [100, 500];

    /// <summary>Iteration i &gt; 1 clusters this hidden state of iteration i − 1's model (0 = the input to its first
    /// layer); null (default) = the middle layer, <c>ceil(NumLayers / 2)</c> (HuBERT base: 6).</summary>
    public int? FeatureLayer { get; init; }

    /// <summary>Iterations i &gt; 1 compact the layer to this many principal components before k-means; null (default) = no PCA.</summary>
    public int? PcaComponents { get; init; }

    /// <summary>Mini-batch k-means settings (the cluster count comes from <see cref="Clusters"/>).</summary>
    public KMeansOptions KMeans { get; init; } = new();

    /// <summary>Masking, label alignment and loss weights (the label rate is set by the pipeline: 100 Hz for MFCC,
    /// the teacher's frame rate after).</summary>
    public MaskedPretrainingOptions Pretraining { get; init; } = new();

    /// <summary>Trainer settings for each iteration (<see cref="TrainerOptions.MaxSteps"/> is required; the pipeline
    /// sets <see cref="TrainerOptions.CheckpointDirectory"/> per iteration, and a periodic checkpoint every
    /// <see cref="TrainerOptions.CheckpointEvery"/> updates lets an interrupted run resume).</summary>
    public TrainerOptions Trainer { get; init; } = new() { MaxSteps = 1000, CheckpointEvery = 100 };

    /// <summary>How training batches are formed (crops, batch size, shuffle seed).</summary>
    public AudioLoaderOptions TrainLoader { get; init; } = new() { BatchSize = 8, MaxSampleSize = 250_000 };

    /// <summary>How held-out batches are formed (no shuffle).</summary>
    public AudioLoaderOptions ValidLoader { get; init; } = new() { BatchSize = 8, Shuffle = false };

    /// <summary>The masked-prediction head's embedding width (256, HuBERT base).</summary>
    public int FinalDim { get; init; } = 256;

    /// <summary>Seed of each model's initial weights (libtorch's global generator is seeded with <c>Seed + i</c>
    /// before iteration i's model is built) and of the held-out masks (default 1).</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Students distilled from the final iteration's model (the HL teacher, with its codebook) after the last
    /// iteration, into the same run folder and <c>pipeline.json</c>: by default HS and HST with regression +
    /// discriminative loss (<see cref="StudentDistillationOptions"/>; its empty manifests take
    /// <see cref="TrainManifest"/> and <see cref="ValidManifest"/>, its folder is <see cref="OutputDir"/>); null
    /// (default) = iterations only. A rerun skips finished students and resumes an unfinished one.</summary>
    public StudentDistillationOptions? Students { get; init; }

    /// <summary>Receives stage starts, reuses, fits and the trainer's logs.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>The clusters of iteration <paramref name="iteration"/> (1-based).</summary>
    public int ClustersOf(int iteration) => Clusters[Math.Min(iteration, Clusters.Count) - 1];

    /// <summary>The hidden state clustered for iterations after the first.</summary>
    public int ResolvedFeatureLayer => FeatureLayer ?? (Encoder.NumLayers + 1) / 2;

    /// <summary>Checks every value (files exist, ranges, the nested options) and throws all problems at once.</summary>
    /// <exception cref="HArnessValidationException">Every problem, each named by its option.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(!string.IsNullOrWhiteSpace(TrainManifest) && File.Exists(TrainManifest), nameof(TrainManifest),
            $"TrainManifest must be an existing .tsv manifest, got '{TrainManifest}'.");
        e.Require(!string.IsNullOrWhiteSpace(ValidManifest) && File.Exists(ValidManifest), nameof(ValidManifest),
            $"ValidManifest must be an existing .tsv manifest, got '{ValidManifest}'.");
        e.Require(!string.IsNullOrWhiteSpace(OutputDir), nameof(OutputDir), "OutputDir must name the run folder.");
        e.Require(Iterations >= 1, nameof(Iterations), $"Iterations must be at least 1, got {Iterations}.");
        if (Encoder is null) e.Add(nameof(Encoder), "Encoder must not be null.");
        else
        {
            var enc = new ValidationErrors();
            Encoder.Validate(enc);
            e.AddRange(enc.Errors, nameof(Encoder));
            e.Require(Encoder.HasMaskEmbedding, "Encoder.MaskTimeProb",
                $"The encoder needs a mask embedding for masked prediction: MaskTimeProb must be > 0, got {Encoder.MaskTimeProb}.");
            if (FeatureLayer is { } l)
                e.Require(l >= 0 && l <= Encoder.NumLayers, nameof(FeatureLayer),
                    $"FeatureLayer must be a hidden state of the {Encoder.NumLayers}-layer model, in [0, {Encoder.NumLayers}], got {l}.");
            if (PcaComponents is { } c)
                e.Require(c >= 1 && c <= Encoder.HiddenSize, nameof(PcaComponents),
                    $"PcaComponents must be in [1, {Encoder.HiddenSize}] (the model's width), got {c}.");
        }
        if (Clusters is null || Clusters.Count == 0) e.Add(nameof(Clusters), "Clusters must give at least one cluster count.");
        else
            for (var i = 0; i < Clusters.Count; i++)
                e.Require(Clusters[i] >= 2, $"{nameof(Clusters)}[{i}]", $"Clusters[{i}] must be at least 2, got {Clusters[i]}.");
        Collect(e, nameof(KMeans), KMeans is null ? null : () => (KMeans with { Clusters = Math.Max(KMeans.Clusters, 1) }).Validate());
        Collect(e, nameof(Pretraining), Pretraining is null ? null : Pretraining.Validate);
        Collect(e, nameof(Trainer), Trainer is null ? null : Trainer.Validate);
        Collect(e, nameof(TrainLoader), TrainLoader is null ? null : TrainLoader.Validate);
        Collect(e, nameof(ValidLoader), ValidLoader is null ? null : ValidLoader.Validate);
        e.Require(FinalDim >= 1, nameof(FinalDim), $"FinalDim must be at least 1, got {FinalDim}.");
        if (Students is not null)
        {
            Students.Validate(e, standalone: false, prefix: nameof(Students));
            if (Encoder is not null && Students.Students is { } specs)
                for (var i = 0; i < specs.Count; i++)
                {
                    if (specs[i]?.Config is not { } config) continue;
                    var inner = new ValidationErrors();
                    config.Validate(inner);
                    if (!inner.IsEmpty) continue; // reported above
                    try { config.ValidateAgainst(Encoder); }
                    catch (HArnessValidationException ex) { e.AddRange(ex.Errors, $"Students.Students[{i}].Config"); }
                    if (Students.FrontEndDistillation is not null && Encoder.FrontEnd is not null) FrontEndFrameRate.Check(inner, config.Encoder, Encoder);
                    e.AddRange(inner.Errors, $"Students.Students[{i}]");
                }
        }
        e.Require(LoggerFactory is not null, nameof(LoggerFactory), "LoggerFactory must not be null.");
        e.ThrowIfAny(nameof(SelfDistillationOptions));
    }

    private static void Collect(ValidationErrors e, string name, Action? validate)
    {
        if (validate is null) { e.Add(name, $"{name} must not be null."); return; }
        try { validate(); }
        catch (HArnessValidationException ex) { e.AddRange(ex.Errors, name); }
        catch (HArnessConfigException ex) { e.Add(name, ex.Message); }
    }
}
