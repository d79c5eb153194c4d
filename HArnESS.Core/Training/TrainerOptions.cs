using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Training;

/// <summary>
/// How a <see cref="Trainer{TBatch}"/> trains: steps, optimiser, schedule, precision, checkpoints, validation,
/// NaN handling and reporting. Immutable; <see cref="Validate"/> reports every invalid value at once, and the
/// trainer calls it before the first step. The values marked "run config" are recorded in every checkpoint, and a
/// checkpoint refuses to resume under different ones.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Optimiser updates to train for (run config; required, positive). Batches cycle through epochs.</summary>
    public long MaxSteps { get; init; }

    /// <summary>Peak learning rate of every module without its own (run config; default 5e-4).</summary>
    public double LearningRate { get; init; } = 5e-4;

    /// <summary>Decoupled weight decay of every module without its own (run config; default 0.01); never applied
    /// to norms, biases or embeddings (<see cref="TrainableModule.DefaultNoWeightDecay"/>).</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>AdamW's β₁, β₂, ε (run config).</summary>
    public AdamWOptions AdamW { get; init; } = new();

    /// <summary>Learning-rate schedule over <see cref="MaxSteps"/> (run config; default constant).</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.ConstantRate;

    /// <summary>Batches whose gradients are accumulated into one update (run config; default 1).</summary>
    public int AccumulationSteps { get; init; } = 1;

    /// <summary>Clip the global gradient norm (all modules together, after unscaling and the gradient
    /// multipliers) to this value; null = no clipping (run config; default null).</summary>
    public double? MaxGradientNorm { get; init; }

    /// <summary>Compute dtype (run config; default float32). Mixed precision is meant for CUDA.</summary>
    public PrecisionMode Precision { get; init; } = PrecisionMode.Float32;

    /// <summary>Float16 loss scaling (run config).</summary>
    public LossScalerOptions LossScaler { get; init; } = new();

    /// <summary>Seed of every random source the trainer owns (run config; default 1): the epoch seeds passed to
    /// the batch source, and per update the global libtorch generator (dropout, layer drop), the step
    /// <see cref="TrainingStepContext.Generator"/> (masks) and <see cref="TrainingStepContext.Random"/>.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Device to train on; null uses <c>HArnessRuntime.Device</c>.</summary>
    public TorchSharp.torch.Device? Device { get; init; }

    /// <summary>Folder for checkpoints (<c>step-00000100.safetensors</c>, <c>best.safetensors</c>) and the loss
    /// history CSV; null = no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Write a checkpoint every this many updates (and at the end, and on cancellation); 0 = only at the
    /// end and on cancellation (default 0).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Periodic checkpoints kept (the newest ones); the best one is kept besides (default 2).</summary>
    public int KeepLastCheckpoints { get; init; } = 2;

    /// <summary>Whether to continue from a checkpoint in <see cref="CheckpointDirectory"/> (default
    /// <see cref="ResumeMode.Auto"/>).</summary>
    public ResumeMode Resume { get; init; } = ResumeMode.Auto;

    /// <summary>Run validation every this many updates (and at the end) when a validation source is given; 0 = only
    /// at the end (run config; default 0).</summary>
    public int ValidateEvery { get; init; }

    /// <summary>Stop after this many validations without improvement of the metric; null = never (run config).</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>What a NaN/Inf loss or gradient norm does (run config; default stop).</summary>
    public NonFiniteLossPolicy NonFinite { get; init; } = NonFiniteLossPolicy.Stop;

    /// <summary>With <see cref="NonFiniteLossPolicy.Skip"/>: updates that may be skipped in the run (default 10).</summary>
    public int MaxSkippedSteps { get; init; } = 10;

    /// <summary>Log a progress line every this many updates (default 10); progress is reported every update.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Extra run-config entries, e.g. the model config or the objective's settings (a checkpoint refuses to
    /// resume when one differs). Keys must not clash with the trainer's own entries.</summary>
    public IReadOnlyDictionary<string, string> RunConfig { get; init; } = new Dictionary<string, string>();

    /// <summary>Receives progress lines, checkpoints, resumes, validations and warnings.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every value and throws all problems at once.</summary>
    /// <exception cref="HArnessValidationException">Lists every invalid option.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(MaxSteps > 0, nameof(MaxSteps), $"MaxSteps must be positive, got {MaxSteps}.");
        e.Require(LearningRate >= 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"LearningRate must be ≥ 0 and finite, got {LearningRate}.");
        e.Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), $"WeightDecay must be ≥ 0 and finite, got {WeightDecay}.");
        if (AdamW is null) e.Add(nameof(AdamW), "AdamW must not be null.");
        else AdamW.Validate(e, nameof(AdamW));
        if (Schedule is null) e.Add(nameof(Schedule), "Schedule must not be null.");
        else Schedule.Validate(e, nameof(Schedule));
        e.Require(AccumulationSteps >= 1, nameof(AccumulationSteps), $"AccumulationSteps must be ≥ 1, got {AccumulationSteps}.");
        e.Require(MaxGradientNorm is null or > 0, nameof(MaxGradientNorm), $"MaxGradientNorm must be positive or null, got {MaxGradientNorm}.");
        e.Require(Enum.IsDefined(Precision), nameof(Precision), $"Precision {Precision} is not a precision mode.");
        if (LossScaler is null) e.Add(nameof(LossScaler), "LossScaler must not be null.");
        else LossScaler.Validate(e, nameof(LossScaler));
        e.Require(CheckpointEvery >= 0, nameof(CheckpointEvery), $"CheckpointEvery must be ≥ 0, got {CheckpointEvery}.");
        e.Require(KeepLastCheckpoints >= 1, nameof(KeepLastCheckpoints), $"KeepLastCheckpoints must be ≥ 1, got {KeepLastCheckpoints}.");
        e.Require(CheckpointDirectory is null || CheckpointDirectory.Length > 0, nameof(CheckpointDirectory), "CheckpointDirectory must be null or a folder path, got an empty string.");
        e.Require(Enum.IsDefined(Resume), nameof(Resume), $"Resume {Resume} is not a resume mode.");
        e.Require(Resume != ResumeMode.Required || CheckpointDirectory is not null, nameof(Resume), "Resume is Required but CheckpointDirectory is null.");
        e.Require(ValidateEvery >= 0, nameof(ValidateEvery), $"ValidateEvery must be ≥ 0, got {ValidateEvery}.");
        e.Require(EarlyStoppingPatience is null or >= 1, nameof(EarlyStoppingPatience), $"EarlyStoppingPatience must be ≥ 1 or null, got {EarlyStoppingPatience}.");
        e.Require(Enum.IsDefined(NonFinite), nameof(NonFinite), $"NonFinite {NonFinite} is not a policy.");
        e.Require(MaxSkippedSteps >= 0, nameof(MaxSkippedSteps), $"MaxSkippedSteps must be ≥ 0, got {MaxSkippedSteps}.");
        e.Require(LogEvery >= 1, nameof(LogEvery), $"LogEvery must be ≥ 1, got {LogEvery}.");
        e.Require(LoggerFactory is not null, nameof(LoggerFactory), "LoggerFactory must not be null.");
        if (RunConfig is null) e.Add(nameof(RunConfig), "RunConfig must not be null.");
        e.ThrowIfAny(nameof(TrainerOptions));
    }

    /// <summary>The trainer's own run-config entries (what changes the numbers a run produces).</summary>
    internal IEnumerable<KeyValuePair<string, string>> OwnRunConfig()
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        yield return new("MaxSteps", MaxSteps.ToString(CultureInfo.InvariantCulture));
        yield return new("LearningRate", F(LearningRate));
        yield return new("WeightDecay", F(WeightDecay));
        yield return new("AdamW", $"beta1={F(AdamW.Beta1)}; beta2={F(AdamW.Beta2)}; eps={F(AdamW.Epsilon)}");
        yield return new("Schedule", $"{Schedule.Kind}; warmup={Schedule.WarmupSteps}; hold={Schedule.HoldSteps}; decay={Schedule.DecaySteps?.ToString(CultureInfo.InvariantCulture) ?? "rest"}; final={F(Schedule.FinalScale)}; initial={F(Schedule.InitialScale)}");
        yield return new("AccumulationSteps", AccumulationSteps.ToString(CultureInfo.InvariantCulture));
        yield return new("MaxGradientNorm", MaxGradientNorm is { } g ? F(g) : "none");
        yield return new("Precision", Precision.ToString());
        if (Precision == PrecisionMode.Float16)
            yield return new("LossScaler", $"init={F(LossScaler.InitialScale)}; growth={F(LossScaler.GrowthFactor)}; backoff={F(LossScaler.BackoffFactor)}; interval={LossScaler.GrowthInterval}; min={F(LossScaler.MinScale)}");
        yield return new("Seed", Seed.ToString(CultureInfo.InvariantCulture));
        yield return new("ValidateEvery", ValidateEvery.ToString(CultureInfo.InvariantCulture));
        yield return new("EarlyStoppingPatience", EarlyStoppingPatience?.ToString(CultureInfo.InvariantCulture) ?? "none");
        yield return new("NonFinite", NonFinite == NonFiniteLossPolicy.Skip ? $"Skip; max={MaxSkippedSteps}" : "Stop");
    }
}
