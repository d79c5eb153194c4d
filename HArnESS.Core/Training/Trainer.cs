using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using HArnESS.Runtime;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;
using HArnESS.Tensors;

namespace HArnESS.Training;

/// <summary>
/// The training loop shared by masked pre-training, distillation and fine-tuning: named modules, an objective that
/// turns a batch into named loss terms, a deterministic batch source and <see cref="TrainerOptions"/>. AdamW with
/// per-module groups (no decay on norms, biases, embeddings), a schedule, freezing and gradient multipliers,
/// accumulation, global-norm clipping, mixed precision with float32 masters and a float16 loss scaler, validation
/// with a best checkpoint and early stopping, NaN/Inf detection, and checkpoints that resume bit-exactly.
/// </summary>
/// <remarks>
/// <para>Exact resume: every update <c>s</c> reseeds libtorch's global generator (dropout, layer drop), the step
/// <see cref="TrainingStepContext.Generator"/> and <see cref="TrainingStepContext.Random"/> from
/// (<see cref="TrainerOptions.Seed"/>, s), and the batch source is read from the saved (epoch, batch) with the
/// same epoch seed; a checkpoint holds master weights, AdamW moments and step counts, the scheduler step, the loss
/// scaler, the generator states and the loss history. On the same device and thread count, an interrupted and
/// resumed run produces the same losses and weights, bit for bit, as an uninterrupted one.</para>
/// <para>Everything runs on the caller's thread (grad mode and dispose scopes are per thread). The modules are moved
/// to the device; their training flag, <c>requires_grad</c> flags and (after mixed precision) dtype are restored
/// when <see cref="Run"/> returns.</para>
/// </remarks>
/// <typeparam name="TBatch">The batch type.</typeparam>
public sealed class Trainer<TBatch> : IDisposable where TBatch : IDisposable
{
    private readonly IReadOnlyList<TrainableModule> _modules;
    private readonly ITrainingObjective<TBatch> _objective;
    private readonly IBatchSource<TBatch> _train;
    private readonly IBatchSource<TBatch>? _valid;
    private readonly IValidationMetric<TBatch>? _metric;
    private readonly ILogger _log;
    private readonly Device _device;
    private readonly ScalarType _computeDType;
    private readonly List<Slot> _slots = [];
    private readonly AdamW _optimizer;
    private readonly DynamicLossScaler _scaler;
    private readonly Generator _stepGenerator;
    private readonly Dictionary<string, string> _runConfig;
    private readonly LossHistory _history = new();
    private readonly List<(Parameter Param, bool RequiresGrad)> _untrained = [];
    private bool _disposed;

    private long _step;
    private BatchPosition _position;
    private long _skipped;
    private double? _bestMetric;
    private long? _bestStep;
    private int _validationsSinceBest;
    private long _lastValidationStep = -1;
    private string? _lastCheckpoint;
    private string? _bestCheckpoint;
    private bool _started;
    private bool _stoppedEarly;
    private long? _resumedFrom;
    private IEnumerator<TBatch>? _batches;
    private int _batchesPerEpoch;

    /// <summary>Creates a trainer and validates everything (options, modules, sources) at once.</summary>
    /// <param name="modules">The named modules to optimise (at least one, distinct names, no parameter shared).</param>
    /// <param name="objective">Turns a batch into loss terms.</param>
    /// <param name="train">The training batches.</param>
    /// <param name="options">How to train.</param>
    /// <param name="validation">Validation batches (epoch 0 is read in full every validation), or null.</param>
    /// <param name="metric">The validation metric, or null for the mean validation total loss.</param>
    /// <exception cref="HArnessValidationException">Every invalid option or module, at once.</exception>
    public Trainer(IReadOnlyList<TrainableModule> modules, ITrainingObjective<TBatch> objective, IBatchSource<TBatch> train,
        TrainerOptions options, IBatchSource<TBatch>? validation = null, IValidationMetric<TBatch>? metric = null)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var errors = new ValidationErrors();
        errors.Require(modules.Count > 0, "modules", "At least one TrainableModule is needed, got none.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < modules.Count; i++)
        {
            var m = modules[i];
            var opt = $"modules[{i}]";
            if (m is null || m.Module is null) { errors.Add(opt, $"{opt} or its Module is null."); continue; }
            errors.Require(!string.IsNullOrEmpty(m.Name) && m.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'), $"{opt}.Name",
                $"{opt}.Name '{m.Name}' must be non-empty and use letters, digits, '_' or '-'.");
            errors.Require(names.Add(m.Name ?? ""), $"{opt}.Name", $"{opt}.Name '{m.Name}' is used twice.");
            errors.Require(m.LearningRate is null or >= 0, $"{opt}.LearningRate", $"{opt}.LearningRate must be ≥ 0, got {m.LearningRate}.");
            errors.Require(m.WeightDecay is null or >= 0, $"{opt}.WeightDecay", $"{opt}.WeightDecay must be ≥ 0, got {m.WeightDecay}.");
            errors.Require(m.FreezeUpdates >= 0, $"{opt}.FreezeUpdates", $"{opt}.FreezeUpdates must be ≥ 0, got {m.FreezeUpdates}.");
            errors.Require(m.GradientMultiplier >= 0 && double.IsFinite(m.GradientMultiplier), $"{opt}.GradientMultiplier",
                $"{opt}.GradientMultiplier must be ≥ 0 and finite, got {m.GradientMultiplier}.");
        }
        errors.Require(metric is null || validation is not null, "metric", "A validation metric was given without a validation source.");
        errors.Require(options.EarlyStoppingPatience is null || validation is not null, nameof(TrainerOptions.EarlyStoppingPatience),
            "EarlyStoppingPatience needs a validation source.");
        var clash = options.RunConfig.Keys.Where(k => options.OwnRunConfig().Any(o => o.Key == k) || k.StartsWith("modules", StringComparison.Ordinal) || k.StartsWith("source.", StringComparison.Ordinal)).ToArray();
        errors.Require(clash.Length == 0, nameof(TrainerOptions.RunConfig), $"RunConfig keys clash with the trainer's own entries: {string.Join(", ", clash)}.");
        errors.ThrowIfAny("Trainer");

        HArnessRuntime.EnsureInitialized();
        Options = options;
        _modules = modules.ToArray();
        _objective = objective;
        _train = train;
        _valid = validation;
        _metric = metric;
        _log = options.LoggerFactory.CreateLogger("HArnESS.Training.Trainer");
        _device = options.Device ?? HArnessRuntime.Device;
        _computeDType = MixedPrecision.ComputeDType(options.Precision);
        _optimizer = new AdamW(options.AdamW);
        _scaler = new DynamicLossScaler(options.LossScaler, options.Precision == PrecisionMode.Float16);
        _stepGenerator = new Generator((ulong)options.Seed, CPU);

        var seen = new HashSet<IntPtr>();
        foreach (var m in _modules)
        {
            m.Module.to(_device);
            var lr = m.LearningRate ?? options.LearningRate;
            var decay = new AdamWGroup($"{m.Name}.decay", lr, m.WeightDecay ?? options.WeightDecay);
            var noDecay = new AdamWGroup($"{m.Name}.no_decay", lr, 0);
            var noDecayRule = m.NoWeightDecay ?? TrainableModule.DefaultNoWeightDecay;
            var masters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (name, p) in m.Module.named_parameters())
            {
                if (!seen.Add(p.Handle))
                    throw new HArnessValidationException("Trainer", [new ValidationError("modules", $"Parameter '{m.Name}.{name}' is shared with another module; give each parameter to one module.")]);
                if (!p.requires_grad || !(m.TrainParameter?.Invoke(name) ?? true))
                {
                    _untrained.Add((p, p.requires_grad));
                    continue;
                }
                if (!p.is_floating_point()) continue;
                var master = _computeDType == ScalarType.Float32 && p.dtype == ScalarType.Float32
                    ? (Tensor)p : p.detach().to_type(ScalarType.Float32).clone();
                masters[name] = master;
                _slots.Add(new Slot(m, name, $"{m.Name}.{name}", master, noDecayRule(name, p) ? noDecay : decay));
            }
            if (_computeDType != ScalarType.Float32) MixedPrecision.CastForCompute(m.Module, _computeDType);
        }
        foreach (var (p, _) in _untrained) p.requires_grad = false;
        RebindParameters();
        foreach (var s in _slots) _optimizer.Add(s.Key, s.Master, s.Group);
        _runConfig = BuildRunConfig();
        _log.LogInformation("Trainer: {Modules} module(s), {Params:N0} trained parameters in {Slots} tensors, {Precision} on {Device}, {Steps} updates",
            _modules.Count, _slots.Sum(s => s.Master.numel()), _slots.Count, options.Precision, _device, options.MaxSteps);
    }

    /// <summary>The options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Updates done so far (after a resume, counting those of the checkpoint).</summary>
    public long Step => _step;

    /// <summary>The next batch to read.</summary>
    public BatchPosition Position => _position;

    /// <summary>The loss history so far.</summary>
    public LossHistory History => _history;

    /// <summary>The run config a checkpoint records (trainer options, modules and their parameter shapes, batch
    /// sources, validation metric, and <see cref="TrainerOptions.RunConfig"/>).</summary>
    public IReadOnlyDictionary<string, string> RunConfig => _runConfig;

    /// <summary>Keys of the trained tensors (<c>{module}.{parameter}</c>).</summary>
    public IReadOnlyList<string> TrainedParameters => _slots.Select(s => s.Key).ToArray();

    /// <summary>The learning-rate factor the schedule gives update <paramref name="step"/> (0-based).</summary>
    public double LearningRateFactor(long step) => Options.Schedule.Factor(step, Options.MaxSteps);

    /// <summary>Raised after each update's gradients are ready (see <see cref="GradientsReadyEventArgs"/>).</summary>
    public event EventHandler<GradientsReadyEventArgs>? GradientsReady;

    /// <summary>Trains until <see cref="TrainerOptions.MaxSteps"/> updates are done (or early stopping), resuming
    /// first when <see cref="TrainerOptions.Resume"/> allows and a checkpoint is there; then validates (when a
    /// validation source is given), writes the final checkpoint and the loss-history CSV.</summary>
    /// <param name="progress">Receives a report per update, validation and checkpoint, synchronously on this thread.</param>
    /// <param name="cancellationToken">Checked between updates; on cancellation a checkpoint is written (when
    /// checkpointing is on) and <see cref="OperationCanceledException"/> is thrown.</param>
    /// <exception cref="HArnessNonFiniteLossException">A loss term or the gradient norm was NaN/Inf (and the skip budget, if any, is spent).</exception>
    /// <exception cref="HArnessCheckpointMismatchException">The checkpoint to resume was written under another run config.</exception>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        RunCore(Options.MaxSteps, finish: true, progress, cancellationToken);

    /// <summary>Trains the next <paramref name="updates"/> updates (fewer when <see cref="TrainerOptions.MaxSteps"/> comes
    /// first), with periodic validation and checkpoints, but without the end-of-run validation and checkpoint; the
    /// batch stream stays open for the next call. For staged training (a first stage on some modules, then the
    /// rest) and for timing single updates. The first call resumes as <see cref="Run"/> does.</summary>
    /// <param name="updates">Updates to do (positive).</param>
    /// <param name="progress">Receives a report per update.</param>
    /// <param name="cancellationToken">As for <see cref="Run"/>.</param>
    public TrainingResult RunUpdates(int updates, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(updates);
        return RunCore(Math.Min(Options.MaxSteps, _step + updates), finish: false, progress, cancellationToken);
    }

    private TrainingResult RunCore(long target, bool finish, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var wasTraining = _modules.Select(m => m.Module.training).ToArray();
        try
        {
            if (!_started)
            {
                _resumedFrom = TryResume(progress);
                _started = true;
                _batchesPerEpoch = _train.CountBatches(_position.Epoch, EpochSeed(_position.Epoch));
            }
            var clock = Stopwatch.StartNew();
            long stepsThisRun = 0;
            double audioSeconds = 0;
            var stop = StopReason.MaxSteps;
            try
            {
                foreach (var m in _modules) m.Module.train();
                while (_step < target && !_stoppedEarly)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        if (Options.CheckpointDirectory is not null) SaveCheckpoint(progress, _batchesPerEpoch);
                        _log.LogInformation("Training cancelled at step {Step}", _step);
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    TrainOneUpdate(ref _batches, ref _batchesPerEpoch, cancellationToken, progress, out var record, out var seconds);
                    audioSeconds += seconds;
                    stepsThisRun++;
                    var rate = audioSeconds / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                    var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / stepsThisRun * (Options.MaxSteps - _step));
                    if (record is not null)
                    {
                        var p = Report(TrainingStage.Training, _batchesPerEpoch, record.Terms, record.LearningRate, record.GradientNorm, rate, eta);
                        progress?.Report(p);
                        if (_step % Options.LogEvery == 0 || _step == Options.MaxSteps) _log.LogInformation("{Progress}", p);
                    }
                    else
                    {
                        var p = Report(TrainingStage.Skipped, _batchesPerEpoch, new Dictionary<string, double>(), LearningRateOf(_step), double.NaN, rate, eta);
                        progress?.Report(p);
                        continue;
                    }
                    if (_valid is not null && Options.ValidateEvery > 0 && _step % Options.ValidateEvery == 0 && Validate(progress, _batchesPerEpoch))
                        _stoppedEarly = true;
                    if (Options.CheckpointDirectory is not null && Options.CheckpointEvery > 0 && _step % Options.CheckpointEvery == 0 && _step < Options.MaxSteps)
                        SaveCheckpoint(progress, _batchesPerEpoch);
                    if (_stoppedEarly)
                        _log.LogInformation("Early stopping at step {Step}: no improvement for {Patience} validations (best {Best} at step {BestStep})",
                            _step, Options.EarlyStoppingPatience, _bestMetric, _bestStep);
                }
            }
            finally
            {
                if (finish)
                {
                    _batches?.Dispose();
                    _batches = null;
                }
            }
            if (_stoppedEarly) stop = StopReason.EarlyStopping;
            if (finish)
            {
                if (_valid is not null && _lastValidationStep != _step && !_stoppedEarly) Validate(progress, _batchesPerEpoch);
                if (Options.CheckpointDirectory is not null && (_resumedFrom != _step || _lastCheckpoint is null)) SaveCheckpoint(progress, _batchesPerEpoch);
                if (Options.CheckpointDirectory is not null) _history.SaveCsv(Path.Combine(Options.CheckpointDirectory, "loss_history.csv"));
                var done = Report(TrainingStage.Finished, _batchesPerEpoch, LastTrainTerms(),
                    LearningRateOf(Math.Max(0, _step - 1)), double.NaN, audioSeconds / Math.Max(1e-9, clock.Elapsed.TotalSeconds), TimeSpan.Zero);
                progress?.Report(done);
                _log.LogInformation("{Progress}", done);
            }
            return new TrainingResult(_step, stop, _resumedFrom, _skipped, _bestMetric, _bestStep, _lastCheckpoint, _bestCheckpoint, _history);
        }
        finally
        {
            for (var i = 0; i < _modules.Count; i++) _modules[i].Module.train(wasTraining[i]);
            foreach (var s in _slots) s.Param.requires_grad = true;
        }
    }

    private IReadOnlyDictionary<string, double> LastTrainTerms()
    {
        var records = _history.Records;
        for (var i = records.Count - 1; i >= 0; i--)
            if (records[i].Split == "train") return records[i].Terms;
        return new Dictionary<string, double>();
    }

    /// <summary>Copies the float32 master weights into the modules and restores their float32 dtype after mixed
    /// precision (a no-op under float32); <see cref="Dispose"/> does it too.</summary>
    public void RestoreModules()
    {
        if (_computeDType == ScalarType.Float32) return;
        using var noGrad = no_grad();
        foreach (var m in _modules) m.Module.to(ScalarType.Float32);
        RebindParameters();
        foreach (var s in _slots) s.Param.copy_(s.Master);
    }

    /// <summary>Restores the modules (see <see cref="RestoreModules"/>) and the untrained parameters'
    /// <c>requires_grad</c>, and frees the optimiser state.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _batches?.Dispose();
        _batches = null;
        RestoreModules();
        foreach (var (p, rg) in _untrained) p.requires_grad = rg;
        _optimizer.Dispose();
        _stepGenerator.Dispose();
        foreach (var s in _slots)
        {
            s.GradBuffer?.Dispose();
            if (!ReferenceEquals(s.Master, s.Param)) s.Master.Dispose();
        }
        _disposed = true;
    }

    // One update: AccumulationSteps batches, backward, unscale, multiply, clip, AdamW. Returns false when skipped.
    private bool TrainOneUpdate(ref IEnumerator<TBatch>? batches, ref int batchesPerEpoch, CancellationToken ct,
        IProgress<TrainingProgress>? progress, out LossRecord? record, out double audioSeconds)
    {
        using var scope = NewDisposeScope();
        var u = _step;
        SeedStep(u);
        foreach (var s in _slots) s.Param.requires_grad = u >= s.Module.FreezeUpdates;
        var startPosition = _position;
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        double sampleTotal = 0;
        audioSeconds = 0;
        record = null;
        var scale = _scaler.Scale;
        var context = default(TrainingStepContext);
        var lastEpoch = startPosition.Epoch;
        for (var micro = 0; micro < Options.AccumulationSteps; micro++)
        {
            using var microScope = NewDisposeScope();
            var batch = NextBatch(ref batches, ref batchesPerEpoch, ct, out var pos);
            lastEpoch = pos.Epoch;
            try
            {
                context = new TrainingStepContext(u, micro, pos, true, _device, _computeDType, _stepGenerator, StepRandom(u));
                using var loss = _objective.Compute(batch, context);
                var values = loss.Terms.Select(t => (t.Name, Value: (double)t.Value.detach().to_type(ScalarType.Float32).item<float>())).ToList();
                var total = (double)loss.Total.detach().item<float>();
                values.Add(("total", total));
                var bad = values.FirstOrDefault(v => !double.IsFinite(v.Value));
                if (bad.Name is not null)
                {
                    HandleNonFinite(bad.Name, bad.Value, u, pos, startPosition, progress, batchesPerEpoch);
                    // Skip: drop this update's gradients, move on past its batches.
                    for (var rest = micro + 1; rest < Options.AccumulationSteps; rest++)
                        NextBatch(ref batches, ref batchesPerEpoch, ct, out _).Dispose();
                    ZeroGradients();
                    return false;
                }
                foreach (var (name, v) in values) sums[name] = sums.GetValueOrDefault(name) + v * loss.SampleSize;
                sampleTotal += loss.SampleSize;
                audioSeconds += _train.AudioSeconds(batch);
                using var lossScale = (scale * loss.SampleSize).ToScalar();
                var scaled = loss.Total.mul(lossScale);
                scaled.backward();
                if (_computeDType != ScalarType.Float32) MoveGradsToBuffers();
            }
            finally
            {
                batch.Dispose();
            }
        }

        var grads = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (no_grad())
        {
            foreach (var s in _slots)
            {
                Tensor? g = _computeDType != ScalarType.Float32 ? (s.HasGrad ? s.GradBuffer : null) : s.Param.grad;
                if (g is null || u < s.Module.FreezeUpdates) continue;
                using var gradScale = (s.Module.GradientMultiplier / (scale * sampleTotal)).ToScalar();
                grads[s.Key] = g.to_type(ScalarType.Float32).mul(gradScale);
            }
        }
        GradientsReady?.Invoke(this, new GradientsReadyEventArgs(u, grads));
        var norm = GlobalNorm(grads.Values);
        var overflow = !double.IsFinite(norm);
        if (overflow && _scaler.Enabled && !_scaler.AtMinimum)
        {
            _scaler.Update(true);
            _skipped++;
            _log.LogWarning("Update {Step}: float16 gradients overflowed at loss scale {Scale}; skipped, scale now {NewScale}", u, scale, _scaler.Scale);
            ZeroGradients();
            return false;
        }
        if (overflow)
        {
            HandleNonFinite("grad_norm", norm, u, startPosition, startPosition, progress, batchesPerEpoch);
            ZeroGradients();
            return false;
        }
        if (Options.MaxGradientNorm is { } max && norm > max)
        {
            var clip = max / (norm + 1e-6);
            using var clipS = clip.ToScalar();
            using (no_grad()) foreach (var g in grads.Values) g.mul_(clipS);
        }
        var factor = LearningRateFactor(u);
        _optimizer.Step(grads, factor);
        _scaler.Update(false);
        if (_computeDType != ScalarType.Float32)
            using (no_grad())
                foreach (var s in _slots) s.Param.copy_(s.Master);
        ZeroGradients();
        _step = u + 1;
        var terms = sums.ToDictionary(kv => kv.Key, kv => kv.Value / sampleTotal, StringComparer.Ordinal);
        record = new LossRecord(_step, lastEpoch, "train", terms, LearningRateOf(u), norm);
        _history.Add(record);
        return true;
    }

    private TBatch NextBatch(ref IEnumerator<TBatch>? batches, ref int batchesPerEpoch, CancellationToken ct, out BatchPosition position)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (batches is null)
            {
                batchesPerEpoch = _train.CountBatches(_position.Epoch, EpochSeed(_position.Epoch));
                if (batchesPerEpoch <= 0)
                    throw new HArnessDataException($"The training source yields no batch in epoch {_position.Epoch} ({_train.Signature}).");
                batches = _train.Read(_position.Epoch, _position.Batch, EpochSeed(_position.Epoch), ct).GetEnumerator();
            }
            if (batches.MoveNext())
            {
                position = _position;
                _position = _position.Batch + 1 >= batchesPerEpoch ? new BatchPosition(_position.Epoch + 1, 0) : _position with { Batch = _position.Batch + 1 };
                if (_position.Batch == 0)
                {
                    // The epoch is done: the next batch comes from a new enumeration.
                    var b = batches.Current;
                    batches.Dispose();
                    batches = null;
                    return b;
                }
                return batches.Current;
            }
            batches.Dispose();
            batches = null;
            if (attempt > 0 || _position.Batch == 0)
                throw new HArnessDataException($"The training source yielded fewer batches than it counted in epoch {_position.Epoch} ({_train.Signature}).");
            _position = new BatchPosition(_position.Epoch + 1, 0);
        }
    }

    private void HandleNonFinite(string term, double value, long step, BatchPosition position, BatchPosition startPosition,
        IProgress<TrainingProgress>? progress, int batchesPerEpoch)
    {
        if (Options.NonFinite == NonFiniteLossPolicy.Skip && _skipped < Options.MaxSkippedSteps)
        {
            _skipped++;
            _log.LogWarning("Loss term '{Term}' is {Value} at update {Step} ({Position}); update skipped ({Skipped}/{Max})",
                term, value, step, position, _skipped, Options.MaxSkippedSteps);
            return;
        }
        string? kept = null;
        if (Options.CheckpointDirectory is not null)
        {
            var resume = _position;
            _position = startPosition;
            ZeroGradients();
            kept = SaveCheckpoint(progress, batchesPerEpoch);
            _position = resume;
        }
        _log.LogError("Loss term '{Term}' is {Value} at update {Step} ({Position}); stopping", term, value, step, position);
        throw new HArnessNonFiniteLossException(term, value, step, position, _skipped, kept ?? _lastCheckpoint);
    }

    // Returns true when early stopping is due.
    private bool Validate(IProgress<TrainingProgress>? progress, int batchesPerEpoch)
    {
        var wasTraining = _modules.Select(m => m.Module.training).ToArray();
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        double samples = 0;
        try
        {
            foreach (var m in _modules) m.Module.eval();
            _metric?.Reset();
            using var noGrad = no_grad();
            SeedStep(-1);
            var context = new TrainingStepContext(_step, 0, default, false, _device, _computeDType, _stepGenerator, StepRandom(-1));
            var i = 0;
            foreach (var batch in _valid!.Read(0, 0, EpochSeed(0)))
            {
                using var scope = NewDisposeScope();
                try
                {
                    var ctx = new TrainingStepContext(_step, 0, new BatchPosition(0, i++), false, _device, _computeDType, _stepGenerator, context.Random);
                    using var loss = _objective.Compute(batch, ctx);
                    foreach (var t in loss.Terms) sums[t.Name] = sums.GetValueOrDefault(t.Name) + t.Value.to_type(ScalarType.Float32).item<float>() * loss.SampleSize;
                    sums["total"] = sums.GetValueOrDefault("total") + loss.Total.item<float>() * loss.SampleSize;
                    samples += loss.SampleSize;
                    _metric?.Update(batch, ctx);
                }
                finally
                {
                    batch.Dispose();
                }
            }
        }
        finally
        {
            for (var k = 0; k < _modules.Count; k++) _modules[k].Module.train(wasTraining[k]);
        }
        var terms = sums.ToDictionary(kv => kv.Key, kv => kv.Value / Math.Max(1e-300, samples), StringComparer.Ordinal);
        var metricName = _metric?.Name ?? "loss";
        var value = _metric?.Compute() ?? terms.GetValueOrDefault("total", double.NaN);
        var higher = _metric?.HigherIsBetter ?? false;
        if (_metric is not null) terms[metricName] = value;
        _history.Add(new LossRecord(_step, _position.Epoch, "valid", terms, double.NaN, double.NaN));
        _lastValidationStep = _step;
        var improved = double.IsFinite(value) && (_bestMetric is not { } best || (higher ? value > best : value < best));
        if (improved)
        {
            _bestMetric = value;
            _bestStep = _step;
            _validationsSinceBest = 0;
            if (Options.CheckpointDirectory is not null)
                _bestCheckpoint = WriteCheckpoint(Path.Combine(Options.CheckpointDirectory, TrainingCheckpoint.BestFileName));
        }
        else _validationsSinceBest++;
        var p = Report(TrainingStage.Validation, batchesPerEpoch, terms, double.NaN, double.NaN, 0, null) with { Metric = value, MetricName = metricName };
        progress?.Report(p);
        _log.LogInformation("{Progress} (best {Best} at step {BestStep})", p, _bestMetric, _bestStep);
        return Options.EarlyStoppingPatience is { } patience && _validationsSinceBest >= patience;
    }

    private string SaveCheckpoint(IProgress<TrainingProgress>? progress, int batchesPerEpoch)
    {
        var dir = Options.CheckpointDirectory!;
        var path = WriteCheckpoint(Path.Combine(dir, TrainingCheckpoint.FileName(_step)));
        _lastCheckpoint = path;
        foreach (var old in TrainingCheckpoint.List(dir).Skip(Options.KeepLastCheckpoints))
            try { File.Delete(old); } catch (IOException ex) { _log.LogWarning("Could not delete old checkpoint {File}: {Error}", old, ex.Message); }
        _history.SaveCsv(Path.Combine(dir, "loss_history.csv"));
        _log.LogInformation("Checkpoint written: {File} (step {Step}, {Position})", path, _step, _position);
        progress?.Report(Report(TrainingStage.Checkpoint, batchesPerEpoch, new Dictionary<string, double>(), double.NaN, double.NaN, 0, null) with { CheckpointPath = path });
        return path;
    }

    private string WriteCheckpoint(string path)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var s in _slots) tensors["model." + s.Key] = s.Master.detach();
        foreach (var m in _modules)
            foreach (var (name, p) in m.Module.named_parameters())
                if (!tensors.ContainsKey($"model.{m.Name}.{name}")) tensors[$"model.{m.Name}.{name}"] = p.detach().to_type(ScalarType.Float32);
        var (moments, steps) = _optimizer.State();
        foreach (var (k, v) in moments) tensors["optim." + k] = v;
        tensors["rng.cpu"] = torch.random.get_rng_state();
        tensors["rng.step"] = _stepGenerator.get_state();
        var state = new CheckpointState
        {
            Step = _step, Epoch = _position.Epoch, Batch = _position.Batch, Skipped = _skipped,
            LossScale = _scaler.Scale, ScalerGoodSteps = _scaler.GoodSteps, ScalerOverflows = _scaler.Overflows,
            OptimizerSteps = steps, BestMetric = _bestMetric, BestStep = _bestStep, ValidationsSinceBest = _validationsSinceBest,
            LastValidationStep = _lastValidationStep, Config = new Dictionary<string, string>(_runConfig, StringComparer.Ordinal),
            History = _history.Records.Select(HistoryRow.From).ToList(),
        };
        TrainingCheckpoint.Write(path, tensors, state);
        return path;
    }

    private long? TryResume(IProgress<TrainingProgress>? progress)
    {
        var dir = Options.CheckpointDirectory;
        if (dir is null || Options.Resume == ResumeMode.Never) return null;
        foreach (var file in TrainingCheckpoint.List(dir))
        {
            if (!TrainingCheckpoint.TryRead(file, out var tensors, out var state, out var problem))
            {
                _log.LogWarning("Checkpoint {File} is not intact ({Problem}); trying the previous one", file, problem);
                continue;
            }
            try
            {
                var diffs = Differences(state!.Config);
                if (diffs.Count > 0) throw new HArnessCheckpointMismatchException(file, diffs);
                Restore(file, tensors!, state);
            }
            finally
            {
                foreach (var t in tensors!.Values) t.Dispose();
            }
            _lastCheckpoint = file;
            var best = Path.Combine(dir, TrainingCheckpoint.BestFileName);
            if (_bestStep is not null && File.Exists(best)) _bestCheckpoint = best;
            _log.LogInformation("Resumed from {File}: step {Step}, {Position}", file, _step, _position);
            var n = _train.CountBatches(_position.Epoch, EpochSeed(_position.Epoch));
            progress?.Report(Report(TrainingStage.Resumed, n, LastTrainTerms(),
                double.NaN, double.NaN, 0, null) with { CheckpointPath = file });
            return _step;
        }
        if (Options.Resume == ResumeMode.Required)
            throw new HArnessCheckpointException($"Resume is Required but '{dir}' holds no intact checkpoint.", dir);
        return null;
    }

    private void Restore(string file, Dictionary<string, Tensor> tensors, CheckpointState state)
    {
        using var noGrad = no_grad();
        foreach (var s in _slots)
        {
            if (!tensors.TryGetValue("model." + s.Key, out var t))
                throw new HArnessCheckpointException($"Tensor 'model.{s.Key}' is missing from '{file}'.", file);
            if (!t.shape.SequenceEqual(s.Master.shape))
                throw new HArnessCheckpointException($"Tensor 'model.{s.Key}' in '{file}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", s.Master.shape)}].", file);
            s.Master.copy_(t);
            if (!ReferenceEquals(s.Master, s.Param)) s.Param.copy_(s.Master);
        }
        var moments = tensors.Where(kv => kv.Key.StartsWith("optim.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["optim.".Length..], kv => kv.Value, StringComparer.Ordinal);
        _optimizer.LoadState(moments, state.OptimizerSteps, file);
        if (tensors.TryGetValue("rng.cpu", out var cpu)) torch.random.set_rng_state(cpu);
        if (tensors.TryGetValue("rng.step", out var step)) _stepGenerator.set_state(step);
        _step = state.Step;
        _position = new BatchPosition(state.Epoch, state.Batch);
        _skipped = state.Skipped;
        _scaler.Restore(state.LossScale, state.ScalerGoodSteps, state.ScalerOverflows);
        _bestMetric = state.BestMetric;
        _bestStep = state.BestStep;
        _validationsSinceBest = state.ValidationsSinceBest;
        _lastValidationStep = state.LastValidationStep;
        _history.Clear();
        foreach (var r in state.History) _history.Add(r.ToRecord());
    }

    private List<ConfigDifference> Differences(IReadOnlyDictionary<string, string> saved)
    {
        var diffs = new List<ConfigDifference>();
        foreach (var key in saved.Keys.Union(_runConfig.Keys).Order(StringComparer.Ordinal))
        {
            saved.TryGetValue(key, out var a);
            _runConfig.TryGetValue(key, out var b);
            if (!string.Equals(a, b, StringComparison.Ordinal)) diffs.Add(new ConfigDifference(key, a, b));
        }
        return diffs;
    }

    private Dictionary<string, string> BuildRunConfig()
    {
        var c = CultureInfo.InvariantCulture;
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in Options.OwnRunConfig()) d[k] = v;
        d["modules"] = string.Join(",", _modules.Select(m => m.Name));
        foreach (var m in _modules)
        {
            d[$"modules.{m.Name}"] = string.Create(c, $"lr={m.LearningRate?.ToString("R", c) ?? "default"}; wd={m.WeightDecay?.ToString("R", c) ?? "default"}; freeze={m.FreezeUpdates}; gradmult={m.GradientMultiplier:R}");
            var shapes = new StringBuilder();
            long count = 0;
            foreach (var s in _slots.Where(s => s.Module == m))
            {
                shapes.Append(s.Name).Append('[').AppendJoin(",", s.Master.shape).Append("];").Append(s.Group.WeightDecay == 0 ? "nd;" : "d;");
                count += s.Master.numel();
            }
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shapes.ToString())))[..16];
            d[$"modules.{m.Name}.parameters"] = string.Create(c, $"{count} in {_slots.Count(s => s.Module == m)} tensors, shapes {hash}");
        }
        d["source.train"] = _train.Signature;
        d["source.valid"] = _valid?.Signature ?? "none";
        d["metric"] = _metric is null ? "loss (lower is better)" : $"{_metric.Name} ({(_metric.HigherIsBetter ? "higher" : "lower")} is better)";
        foreach (var (k, v) in Options.RunConfig) d[k] = v;
        return d;
    }

    private TrainingProgress Report(TrainingStage stage, int batchesPerEpoch, IReadOnlyDictionary<string, double> losses, double lr,
        double gradNorm, double rate, TimeSpan? eta) => new()
    {
        Stage = stage, Step = _step, TotalSteps = Options.MaxSteps, Epoch = _position.Epoch, Batch = _position.Batch,
        BatchesPerEpoch = batchesPerEpoch, Losses = losses, LearningRate = lr, GradientNorm = gradNorm,
        AudioSecondsPerSecond = rate, Eta = eta, LossScale = _scaler.Scale,
        Metric = stage == TrainingStage.Training ? _bestMetric : null, MetricName = _bestMetric is null ? null : (_metric?.Name ?? "loss") + (stage == TrainingStage.Training ? " (best)" : ""),
    };

    private double LearningRateOf(long step) => (_slots.Count > 0 ? _slots[0].Group.LearningRate : Options.LearningRate) * LearningRateFactor(step);

    private long EpochSeed(int epoch) => (long)Mix((ulong)Options.Seed, 0x5EED_E90C, (ulong)epoch);

    private void SeedStep(long step)
    {
        var s = (ulong)step;
        torch.random.manual_seed((long)(Mix((ulong)Options.Seed, 1, s) >> 1));
        if (_device.type == DeviceType.CUDA) torch.cuda.manual_seed_all((long)(Mix((ulong)Options.Seed, 1, s) >> 1));
        _stepGenerator.manual_seed((long)(Mix((ulong)Options.Seed, 2, s) >> 1));
    }

    private Random StepRandom(long step) => new((int)(Mix((ulong)Options.Seed, 3, (ulong)step) >> 33));

    // SplitMix64 over (seed, stream, counter): independent, well-spread seeds per step and stream.
    private static ulong Mix(ulong seed, ulong stream, ulong counter)
    {
        var z = seed * 0x9E3779B97F4A7C15UL + stream * 0xBF58476D1CE4E5B9UL + counter * 0x94D049BB133111EBUL + 0x2545F4914F6CDD1DUL;
        for (var i = 0; i < 2; i++)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
        }
        return z;
    }

    private static double GlobalNorm(IEnumerable<Tensor> grads)
    {
        using var scope = NewDisposeScope();
        Tensor? sq = null;
        foreach (var g in grads)
        {
            var s = g.pow(Scalars.Of(2L)).sum();
            sq = sq is null ? s : sq.add(s, Scalars.One);
        }
        return sq is null ? 0 : Math.Sqrt(sq.item<float>());
    }

    private void MoveGradsToBuffers()
    {
        using var noGrad = no_grad();
        foreach (var s in _slots)
        {
            using var g = s.Param.grad;
            if (g is null) continue;
            s.GradBuffer ??= zeros_like(s.Master).DetachFromDisposeScope();
            if (!s.HasGrad) s.GradBuffer.zero_();
            s.GradBuffer.add_(g, Scalars.One);
            s.HasGrad = true;
            g.zero_();
        }
    }

    private void ZeroGradients()
    {
        using var noGrad = no_grad();
        foreach (var s in _slots)
        {
            using var g = s.Param.grad;
            g?.zero_();
            s.HasGrad = false;
        }
    }

    // After a dtype or device change the modules hold new Parameter objects: find them again by name.
    private void RebindParameters()
    {
        foreach (var m in _modules)
        {
            var byName = m.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
            foreach (var s in _slots.Where(s => s.Module == m)) s.Param = byName[s.Name];
        }
    }

    private sealed class Slot(TrainableModule module, string name, string key, Tensor master, AdamWGroup group)
    {
        public TrainableModule Module { get; } = module;
        public string Name { get; } = name;
        public string Key { get; } = key;
        public Tensor Master { get; } = master;
        public AdamWGroup Group { get; } = group;
        public Parameter Param { get; set; } = null!;
        public Tensor? GradBuffer { get; set; }
        public bool HasGrad { get; set; }
    }
}
