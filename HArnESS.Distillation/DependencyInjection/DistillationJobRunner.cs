using System.Globalization;
using HArnESS.Data;
using HArnESS.DependencyInjection;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Targets;
using HArnESS.Runtime;
using HArnESS.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>
/// Runs <see cref="DistillationJob"/>s on the container's trainer: layer regression of the student onto the frozen
/// teacher (<see cref="RegressionLoss"/>), with the container's <see cref="TrainerOptions"/> (checkpoints, resume,
/// steps) and logger. Everything runs on the calling thread; a host calls it from one dedicated worker thread.
/// </summary>
/// <remarks>
/// The run config every checkpoint records (and a resume checks) adds the teacher's weights hash, the student's
/// teacher layers and the loss options to the trainer's own, so a checkpoint never resumes under another teacher or
/// loss. Cancellation is checked between updates only (batch reads do not see the token): a checkpoint is written
/// first (when <see cref="TrainerOptions.CheckpointDirectory"/> is set) and <see cref="OperationCanceledException"/>
/// is thrown.
/// </remarks>
public sealed class DistillationJobRunner
{
    private readonly ITrainerFactory _trainers;
    private readonly DistillationServiceOptions _options;
    private readonly ILogger _log;

    /// <summary>Creates the runner (the container does this; see <c>AddHArnessDistillation</c>).</summary>
    /// <param name="trainers">Makes the trainer with the registered trainer options.</param>
    /// <param name="options">The registered distillation options.</param>
    public DistillationJobRunner(ITrainerFactory trainers, IOptions<DistillationServiceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(trainers);
        ArgumentNullException.ThrowIfNull(options);
        _trainers = trainers;
        _options = options.Value;
        _log = _options.LoggerFactory.CreateLogger("HArnESS.Distillation.DistillationJobRunner");
    }

    /// <summary>The registered trainer options the jobs start from.</summary>
    public TrainerOptions TrainerOptions => _trainers.Options;

    /// <summary>Distils <paramref name="job"/>'s student from its teacher: checks the student against the teacher,
    /// moves the teacher to the training device, then trains (resuming first when the trainer options allow and a
    /// checkpoint is there).</summary>
    /// <param name="job">The models, batches and per-job changes.</param>
    /// <param name="progress">Receives the trainer's reports (every update, checkpoint, resume), on this thread.</param>
    /// <param name="cancellationToken">Checked between updates; see the remarks.</param>
    /// <returns>The trainer's result (steps, resumed-from step, checkpoints, loss history).</returns>
    /// <exception cref="HArnessValidationException">The student does not fit the teacher, or the options are invalid (every problem at once).</exception>
    /// <exception cref="HArnessCheckpointMismatchException">The checkpoint to resume was written for another run config.</exception>
    public TrainingResult Run(DistillationJob job, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(job.Teacher);
        ArgumentNullException.ThrowIfNull(job.Student);
        ArgumentNullException.ThrowIfNull(job.Train);
        var lossOptions = job.Loss ?? _options.Loss;
        lossOptions.Validate();
        job.Student.ValidateAgainst(job.Teacher.Config);
        job.Teacher.CheckLayers(job.Student.TeacherLayers);

        var teacherHash = ModuleWeightsHash.Compute(job.Teacher.Encoder);
        var loss = new RegressionLoss(lossOptions);
        using var trainer = _trainers.Create([new TrainableModule("student", job.Student)],
            new RegressionDistillationObjective(job.Teacher, job.Student, loss), new StepBoundaryBatchSource<AudioBatch>(job.Train), o =>
            {
                var adjusted = job.Trainer is null ? o : job.Trainer(o);
                var runConfig = new Dictionary<string, string>(adjusted.RunConfig)
                {
                    ["distillation.teacher"] = teacherHash,
                    ["distillation.teacher_layers"] = string.Join(",", job.Student.TeacherLayers.Select(l => l.ToString(CultureInfo.InvariantCulture))),
                    ["distillation.loss"] = Describe(lossOptions),
                };
                return adjusted with { RunConfig = runConfig };
            }, job.Validation is null ? null : new StepBoundaryBatchSource<AudioBatch>(job.Validation));
        job.Teacher.Encoder.to(trainer.Options.Device ?? HArnessRuntime.Device);
        _log.LogInformation("Distilling a {Layers}-layer student ({Parameters:N0} parameters) from teacher {Teacher} (layers {TeacherLayers}, weights {Hash}) for {Steps} updates; checkpoints: {Checkpoints}",
            job.Student.Encoder.NumLayers, job.Student.CountParameters(), job.Teacher.Source ?? "(in memory)",
            string.Join(",", job.Student.TeacherLayers), teacherHash[..Math.Min(12, teacherHash.Length)], trainer.Options.MaxSteps,
            trainer.Options.CheckpointDirectory ?? "none");
        try
        {
            var result = trainer.Run(progress, cancellationToken);
            _log.LogInformation("Distillation finished: {Steps} updates ({Reason}){Resumed}; last checkpoint {Checkpoint}",
                result.Steps, result.Reason, result.ResumedFromStep is { } r ? $", resumed from update {r}" : "", result.LastCheckpoint ?? "none");
            return result;
        }
        catch (OperationCanceledException)
        {
            _log.LogWarning("Distillation cancelled after update {Step}; {Checkpoint}", trainer.Step,
                trainer.Options.CheckpointDirectory is null ? "no checkpoint (CheckpointDirectory is null)" : "a checkpoint was written for a resume");
            throw;
        }
    }

    private static string Describe(RegressionLossOptions o)
    {
        var c = CultureInfo.InvariantCulture;
        return string.Create(c, $"{o.Reconstruction}; {o.Similarity}; lambda={o.SimilarityWeight:R}; weights={(o.LayerWeights is null ? "equal" : string.Join(",", o.LayerWeights.Select(w => w.ToString("R", c))))}; pen={o.FeaturePenaltyWeight:R}; eps={o.CosineEpsilon:R}");
    }
}
