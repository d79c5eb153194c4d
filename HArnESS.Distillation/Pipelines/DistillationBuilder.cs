using System.Globalization;
using HArnESS.Checkpoints;
using HArnESS.Data;
using HArnESS.Distillation.Initialization;
using HArnESS.Distillation.Students;
using HArnESS.Distillation.Targets;
using HArnESS.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// An immutable fluent plan for distilling a student from a teacher, over a plain <see cref="DistillationOptions"/>
/// record: every method returns a new builder and leaves the one it was called on unchanged.
/// <c>Distillation.From(teacher).Into(StudentPresets.Hs(…)).PredictLayers(4, 8, 12).Loss(l =&gt; l.WithDiscriminative())
/// .Initialize(DistillationInitialization.FirstLayers(2)).Train("train.tsv", t =&gt; t with { MaxSteps = 200 })
/// .Evaluate("valid.tsv").RunAsync(progress, ct)</c>. <see cref="Validate()"/> (also the first thing
/// <see cref="RunAsync"/> does) reports every problem at once before any step: a teacher layer the teacher does not
/// have, a student/teacher width or frame-rate mismatch, a codebook missing when the discriminative loss asks for
/// it, an initialisation whose shapes do not fit, and every invalid option.
/// </summary>
public sealed class DistillationBuilder
{
    private readonly DistillationTeacher _teacher;
    private readonly DistillationStudentConfig? _config;
    private readonly DistillationStudent? _student;

    internal DistillationBuilder(DistillationTeacher teacher, DistillationStudentConfig? config, DistillationStudent? student, DistillationOptions options)
    {
        _teacher = teacher;
        _config = config;
        _student = student;
        Options = options;
    }

    /// <summary>The options this builder carries.</summary>
    public DistillationOptions Options { get; }

    /// <summary>The student config the run will use (the given one with <see cref="DistillationOptions.TeacherLayers"/>,
    /// <see cref="DistillationOptions.CompactComponents"/> and, with the discriminative loss, the codebook's width as
    /// <c>CodeDim</c> applied), or null before <see cref="Into(DistillationStudentConfig)"/>.</summary>
    public DistillationStudentConfig? StudentConfig => _student?.Config ?? Resolve(_config);

    /// <summary>Distils into a fresh student built from <paramref name="config"/> when the run starts (returned in
    /// <see cref="DistillationResult.Student"/>).</summary>
    public DistillationBuilder Into(DistillationStudentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new(_teacher, config, null, Options);
    }

    /// <summary>Distils into a ready student (not owned; its config fixes the layers and widths, so
    /// <see cref="PredictLayers"/> must agree with it).</summary>
    public DistillationBuilder Into(DistillationStudent student)
    {
        ArgumentNullException.ThrowIfNull(student);
        return new(_teacher, null, student, Options);
    }

    /// <summary>Replaces the options wholesale.</summary>
    public DistillationBuilder With(DistillationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(_teacher, _config, _student, options);
    }

    /// <summary>The teacher hidden states to predict (DistilHuBERT: 4, 8, 12).</summary>
    public DistillationBuilder PredictLayers(params int[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return With(Options with { TeacherLayers = layers.ToArray() });
    }

    /// <summary>Adjusts the losses (e.g. <c>l =&gt; l.WithDiscriminative(0.5)</c> or <c>l =&gt; l with { Regression = RegressionLossOptions.Mse }</c>).</summary>
    public DistillationBuilder Loss(Func<DistillationLossOptions, DistillationLossOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return With(Options with { Loss = configure(Options.Loss) });
    }

    /// <summary>Initialises the student from the teacher before the first step.</summary>
    public DistillationBuilder Initialize(DistillationInitialization initialization)
    {
        ArgumentNullException.ThrowIfNull(initialization);
        return With(Options with { Initialization = initialization });
    }

    /// <summary>Predicts each teacher layer's top-<paramref name="components"/> PCA projection instead of its full width.</summary>
    public DistillationBuilder CompactTargets(int components, int utterances = 200) =>
        With(Options with { CompactComponents = components, CompactionUtterances = utterances });

    /// <summary>Runs Wang et al.'s front-end distillation first (<see cref="FrontEndDistillationOptions"/>): for
    /// <paramref name="steps"/> updates only the student's front-end, through a fresh projection, learns to match the
    /// teacher's <c>hidden_states[0]</c>; then the usual losses train the whole student from there. With
    /// <see cref="TrainerOptions.CheckpointDirectory"/> set, stage 1 checkpoints in its <c>frontend/</c> subfolder and
    /// a rerun resumes (or skips) it like the main run. A frame-rate mismatch that no stacking or subsampler fixes is
    /// refused by <see cref="Validate()"/> as <c>FrontEndDistillation.FrameRate</c>, with the remedy when there is one.</summary>
    /// <param name="steps">Updates of stage 1, at least 1.</param>
    /// <param name="configure">Adjusts the stage's options (learning rate, loss); null keeps the defaults.</param>
    public DistillationBuilder DistillFrontEnd(long steps, Func<FrontEndDistillationOptions, FrontEndDistillationOptions>? configure = null)
    {
        var stage = new FrontEndDistillationOptions { Steps = steps };
        return With(Options with { FrontEndDistillation = configure is null ? stage : configure(stage) });
    }

    /// <summary>The training corpus and trainer settings.</summary>
    /// <param name="manifest">The training manifest.</param>
    /// <param name="trainer">Adjusts <see cref="DistillationOptions.Trainer"/>; null keeps it.</param>
    /// <param name="loader">How batches are formed; null keeps <see cref="DistillationOptions.Loader"/>.</param>
    public DistillationBuilder Train(string manifest, Func<TrainerOptions, TrainerOptions>? trainer = null, AudioLoaderOptions? loader = null) =>
        With(Options with
        {
            TrainManifest = manifest ?? throw new ArgumentNullException(nameof(manifest)),
            Trainer = trainer is null ? Options.Trainer : trainer(Options.Trainer),
            Loader = loader ?? Options.Loader,
        });

    /// <summary>Held-out utterances for the validation loss and the per-layer cosine report.</summary>
    public DistillationBuilder Evaluate(string manifest, AudioLoaderOptions? loader = null) =>
        With(Options with { ValidManifest = manifest ?? throw new ArgumentNullException(nameof(manifest)), ValidLoader = loader ?? Options.ValidLoader });

    /// <summary>Checks everything without training and reports every problem at once (see the class remarks).</summary>
    /// <exception cref="HArnessValidationException">Every problem, each named by its option.</exception>
    public void Validate()
    {
        var errors = Collect();
        errors.ThrowIfAny("Distillation");
    }

    private ValidationErrors Collect()
    {
        Runtime.HArnessRuntime.EnsureInitialized();
        var errors = new ValidationErrors();
        Options.Validate(errors);
        var config = StudentConfig;
        if (config is null)
        {
            errors.Add("Student", "Choose the student: .Into(config) or .Into(student).");
            return errors;
        }
        if (_student is not null && Options.TeacherLayers is { } tl && !tl.SequenceEqual(_student.TeacherLayers))
            errors.Add("TeacherLayers", $"PredictLayers({string.Join(", ", tl)}) differs from the ready student's teacher layers ({string.Join(", ", _student.TeacherLayers)}).");
        if (_student is not null && Options.CompactComponents is { } c && _student.Config.CompactDim != c)
            errors.Add("CompactComponents", $"CompactComponents = {c} but the ready student predicts {_student.Config.TargetDim} dims.");
        if (Options.FrontEndDistillation is not null && config.Encoder?.FrontEnd is not null)
            FrontEndFrameRate.Check(errors, config.Encoder, _teacher.Config);
        var k = config.CompactDim;
        DistillationObjective.Check(errors, _teacher, config, Options.Loss, k is null ? null : config.TargetCount,
            k is null ? null : Enumerable.Repeat((_teacher.Encoder.HiddenSize, k.Value), config.TargetCount).ToArray());
        if (Options.Initialization is { } init)
        {
            try { config.Validate(); }
            catch (HArnessValidationException) { return errors; } // already reported under Student
            var temp = _student is null ? new DistillationStudent(config) : null;
            try
            {
                var state = InitialState(init, (temp ?? _student!).Encoder);
                foreach (var key in state.FromTeacher) state.State[key].Dispose();
            }
            catch (Exception ex) when (ex is HArnessCheckpointException or ArgumentException)
            {
                errors.Add("Initialization", $"The student cannot be initialised from this teacher: {ex.Message}");
            }
            finally
            {
                temp?.Dispose();
            }
        }
        return errors;
    }

    private InitializedState InitialState(DistillationInitialization init, Encoders.SpeechEncoder student)
    {
        var teacherState = _teacher.Encoder.state_dict();
        var studentState = student.state_dict();
        return init.LayerMap is { } map
            ? TeacherInitialization.FromTeacher(teacherState, studentState, map, init.FrontEnd)
            : TeacherInitialization.CopyFrontEnd(teacherState, studentState, init.FrontEnd);
    }

    private DistillationStudentConfig? Resolve(DistillationStudentConfig? config)
    {
        if (config is null) return null;
        if (Options.TeacherLayers is { } layers) config = config with { TeacherLayers = layers.ToArray() };
        if (Options.CompactComponents is { } k) config = config with { CompactDim = k };
        if (Options.Loss?.Discriminative is not null && config.CodeDim is null && _teacher.Head is { } head) config = config with { CodeDim = head.FinalDim };
        return config;
    }

    /// <summary>Validates, builds (or takes) the student, initialises it from the teacher, fits the compaction PCA,
    /// reports the per-layer cosine on the held-out utterances, trains (resuming from
    /// <see cref="TrainerOptions.CheckpointDirectory"/> when a checkpoint is there), and reports the cosine again.
    /// Runs on the calling thread; the returned task is complete when this returns. The teacher is moved to the
    /// trainer's device for the run and moved back afterwards; its training flag is left as it was.</summary>
    /// <param name="progress">One report per stage and per trainer report.</param>
    /// <param name="cancellationToken">Checked between steps (the trainer checkpoints on cancellation).</param>
    /// <exception cref="HArnessValidationException">Anything <see cref="Validate()"/> finds (thrown before the task is returned).</exception>
    public Task<DistillationResult> RunAsync(IProgress<DistillationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate();
        try
        {
            return Task.FromResult(Run(progress, cancellationToken));
        }
        catch (OperationCanceledException ex)
        {
            return Task.FromCanceled<DistillationResult>(ex.CancellationToken.IsCancellationRequested ? ex.CancellationToken : new CancellationToken(true));
        }
        catch (Exception ex)
        {
            return Task.FromException<DistillationResult>(ex);
        }
    }

    private DistillationResult Run(IProgress<DistillationProgress>? progress, CancellationToken ct)
    {
        var o = Options;
        var device = o.Trainer.Device ?? Runtime.HArnessRuntime.Device;
        var student = _student ?? new DistillationStudent(StudentConfig!);
        var teacherDevice = _teacher.Encoder.parameters().First().device;
        var headDevice = _teacher.Head?.parameters().First().device;
        var compaction = new List<Pca>();
        try
        {
            _teacher.Encoder.to(device);
            _teacher.Head?.to(device);
            student.to(device);
            IReadOnlyList<string> initialized = [];
            if (o.Initialization is { } init)
            {
                var state = InitialState(init, student.Encoder);
                using (var scope = NewDisposeScope())
                {
                    student.Encoder.LoadWeights(state.State, source: "teacher");
                    foreach (var key in state.FromTeacher) state.State[key].Dispose();
                }
                initialized = state.FromTeacher;
                progress?.Report(new DistillationProgress(DistillationStage.Initialization,
                    $"initialization: {initialized.Count} tensors copied from the teacher (front-end {init.FrontEnd}, layer map {(init.LayerMap is null ? "none" : string.Join(", ", init.LayerMap))})"));
            }

            var train = Manifest.Load(o.TrainManifest);
            TrainingResult? frontEnd = null;
            if (o.FrontEndDistillation is { } fe)
                frontEnd = RunFrontEndStage(student, fe, train, device, progress, ct);
            IReadOnlyList<double>? variance = null;
            if (student.Config.CompactDim is { } k)
            {
                compaction.AddRange(FitCompaction(train, student.TeacherLayers, k, o.CompactionUtterances, device, ct));
                variance = compaction.Select(p => p.RetainedVarianceRatio).ToArray();
                progress?.Report(new DistillationProgress(DistillationStage.Initialization, string.Create(CultureInfo.InvariantCulture,
                    $"compaction: {k} PCA components keep {string.Join(", ", variance.Select((v, i) => $"{v:P1} (layer {student.TeacherLayers[i]})"))} of the teacher's variance")));
            }

            var objective = new DistillationObjective(_teacher, student, o.Loss, compaction.Count == 0 ? null : compaction);
            var validSet = o.ValidManifest is null ? null : new AudioDataset(Manifest.Load(o.ValidManifest));
            AudioLoaderBatchSource? validSource = validSet is null ? null : new AudioLoaderBatchSource(new AudioLoader(validSet, o.ValidLoader));
            // The cosine report reads its own loaders (no prefetch thread), not the one the trainer validates with.
            IEnumerable<AudioBatch> HeldOut() => new AudioLoader(validSet!, o.ValidLoader with { Prefetch = 0 });
            IReadOnlyList<double>? before = null, after = null;
            if (validSource is not null)
            {
                before = objective.LayerCosine(HeldOut(), device, ct);
                progress?.Report(new DistillationProgress(DistillationStage.Evaluation, "evaluation before training: " + Describe(student.TeacherLayers, before)));
            }

            var trainSource = new AudioLoaderBatchSource(new AudioLoader(new AudioDataset(train), o.Loader));
            var runConfig = new Dictionary<string, string>(o.Trainer.RunConfig, StringComparer.Ordinal)
            {
                ["distillation.student"] = student.Config.ToJson(),
                ["distillation.loss"] = $"{o.Loss.Regression}; {o.Loss.Discriminative?.ToString() ?? "no discriminative"}",
            };
            TrainingResult result;
            using (var trainer = new Trainer<AudioBatch>(objective.Modules, objective, trainSource, o.Trainer with { RunConfig = runConfig, Device = device }, validSource))
            {
                var p = progress is null ? null : new SyncProgress<TrainingProgress>(t => progress.Report(new DistillationProgress(DistillationStage.Training, "training: " + t, t)));
                result = trainer.Run(p, ct);
            }
            if (validSource is not null)
            {
                after = objective.LayerCosine(HeldOut(), device, ct);
                progress?.Report(new DistillationProgress(DistillationStage.Evaluation, "evaluation after training: " + Describe(student.TeacherLayers, after)));
            }
            progress?.Report(new DistillationProgress(DistillationStage.Done, $"done: {result.Steps} updates ({result.Reason})"));
            return new DistillationResult(student, result, student.TeacherLayers, before, after, initialized, variance) { FrontEndTraining = frontEnd };
        }
        catch
        {
            if (_student is null) student.Dispose();
            throw;
        }
        finally
        {
            foreach (var p in compaction) p.Dispose();
            _teacher.Encoder.to(teacherDevice);
            if (headDevice is not null) _teacher.Head!.to(headDevice);
        }
    }

    /// <summary>Stage 1 of the front-end distillation: the student's encoder inside a stage-1 student
    /// (<see cref="StudentPresets.FrontEndStage"/>: one projection from its hidden_states[0] to the teacher's), only
    /// <see cref="DistillationStudent.FrontEndParameters"/> trained; the encoder keeps the result.</summary>
    private TrainingResult RunFrontEndStage(DistillationStudent student, FrontEndDistillationOptions fe, Manifest train, Device device,
        IProgress<DistillationProgress>? progress, CancellationToken ct)
    {
        var o = Options;
        // Shares the student's encoder: only the stage's own heads are disposed afterwards, never the wrapper.
        var stage = new DistillationStudent(StudentPresets.FrontEndStage(student.Config), student.Encoder);
        try
        {
            stage.Heads.to(device);
            var trained = stage.FrontEndParameters();
            var names = stage.named_parameters().Where(p => trained.Any(x => ReferenceEquals(x, p.parameter))).Select(p => p.name).ToHashSet(StringComparer.Ordinal);
            var objective = new DistillationObjective(_teacher, stage, new DistillationLossOptions { Regression = fe.Loss });
            var module = new TrainableModule("student", stage) { TrainParameter = names.Contains };
            var runConfig = new Dictionary<string, string>(o.Trainer.RunConfig, StringComparer.Ordinal)
            {
                ["distillation.stage"] = "front-end",
                ["distillation.student"] = stage.Config.ToJson(),
                ["distillation.loss"] = fe.Loss.ToString(),
            };
            var options = o.Trainer with
            {
                MaxSteps = fe.Steps, LearningRate = fe.LearningRate ?? o.Trainer.LearningRate, RunConfig = runConfig, Device = device,
                CheckpointDirectory = o.Trainer.CheckpointDirectory is { } dir ? Path.Combine(dir, "frontend") : null,
                ValidateEvery = 0, EarlyStoppingPatience = null,
            };
            var source = new AudioLoaderBatchSource(new AudioLoader(new AudioDataset(train), o.Loader));
            progress?.Report(new DistillationProgress(DistillationStage.FrontEnd, string.Create(CultureInfo.InvariantCulture,
                $"front-end stage: {names.Count} tensors of the {student.Config.Encoder.FrontEnd.Kind} front-end and its projection learn the teacher's hidden_states[0] for {fe.Steps} updates")));
            TrainingResult result;
            using (var trainer = new Trainer<AudioBatch>([module], objective, source, options))
            {
                var p = progress is null ? null : new SyncProgress<TrainingProgress>(t => progress.Report(new DistillationProgress(DistillationStage.FrontEnd, "front-end stage: " + t, t)));
                result = trainer.Run(p, ct);
            }
            progress?.Report(new DistillationProgress(DistillationStage.FrontEnd, $"front-end stage: done, {result.Steps} updates ({result.Reason})"));
            return result;
        }
        finally
        {
            stage.Heads.Dispose();
        }
    }

    private static string Describe(IReadOnlyList<int> layers, IReadOnlyList<double> cos) =>
        "cosine to the teacher " + string.Join(", ", cos.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $"layer {layers[i]} {c:F3}")));

    private List<Pca> FitCompaction(Manifest train, IReadOnlyList<int> layers, int k, int utterances, Device device, CancellationToken ct)
    {
        var frames = layers.Select(_ => new List<Tensor>()).ToArray();
        var entries = Enumerable.Range(0, Math.Min(utterances, train.Count)).ToArray();
        var loader = new AudioLoader(new AudioDataset(train), new AudioLoaderOptions { BatchSize = 8, Shuffle = false, Crop = CropMode.Start, Prefetch = 0 }, null, entries);
        try
        {
            foreach (var batch in loader)
            {
                ct.ThrowIfCancellationRequested();
                using var b = batch;
                using var scope = NewDisposeScope();
                using var output = _teacher.Forward(b.Waveforms.to(device), b.Lengths.to(device), layers);
                var valid = Losses.FrameMasks.FromLengths(output.FrameLengths, output.LastHiddenState.shape[1]);
                for (var i = 0; i < layers.Count; i++)
                    frames[i].Add(output.HiddenStates[layers[i]][valid].to(ScalarType.Float32).cpu().MoveToOuterDisposeScope());
            }
            var fits = new List<Pca>();
            foreach (var list in frames)
            {
                using var all = torch.cat(list, 0);
                fits.Add(Pca.Fit(all, new PcaOptions { Components = k }));
            }
            return fits;
        }
        finally
        {
            foreach (var list in frames) foreach (var t in list) t.Dispose();
        }
    }

    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
