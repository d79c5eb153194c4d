using HArnESS.Data;
using HArnESS.DependencyInjection;
using HArnESS.Distillation.DependencyInjection;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Training;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace HArnESS.Samples.DistillationHost;

/// <summary>
/// The distillation job as a background service. All tensor work runs on one dedicated thread (grad mode and dispose
/// scopes are per thread); the host's stopping token (Ctrl+C, SIGTERM) cancels the trainer at the next step boundary,
/// which writes a checkpoint first. When the job ends (finished, cancelled or failed) the application stops;
/// a failure sets exit code 1.
/// </summary>
internal sealed class DistillationWorker(JobSettings settings, ISpeechEncoderFactory encoders, DistillationJobRunner runner,
    IHostApplicationLifetime lifetime, ILogger<DistillationWorker> log) : BackgroundService
{
    /// <summary>A tiny teacher: the tiny CNN (hop 80) at width 32 with 2 post-LN layers, no dropout.</summary>
    private static readonly SpeechEncoderConfig TeacherConfig = EncoderPresets.TinyPostLn with
    {
        MaskTimeProb = 0, HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0,
    };

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource();
        var thread = new Thread(() =>
        {
            try { Run(stoppingToken); }
            catch (OperationCanceledException) { log.LogInformation("Stopped at a step boundary; run again to resume"); }
            catch (Exception e)
            {
                log.LogError(e, "Distillation failed");
                Environment.ExitCode = 1;
            }
            finally
            {
                done.SetResult();
                lifetime.StopApplication();
            }
        }) { Name = "distillation", IsBackground = true };
        thread.Start();
        return done.Task;
    }

    private void Run(CancellationToken ct)
    {
        using var teacher = new DistillationTeacher(LoadOrBuildTeacher(), source: settings.Teacher ?? Path.Combine(settings.Output, "teacher"));
        torch.manual_seed(2);
        using var student = new DistillationStudent(new DistillationStudentConfig
        {
            Encoder = TeacherConfig with { NumLayers = 1 },
            Mode = StudentHeadMode.PredictionHeads,
            TeacherLayers = [1, teacher.Config.NumLayers],
            TeacherDim = teacher.Config.HiddenSize,
        });
        var train = AudioDataset.Load(Path.Combine(settings.Data!, "train.tsv"));
        var source = new AudioLoaderBatchSource(new AudioLoader(train, new AudioLoaderOptions { BatchSize = settings.BatchSize, MaxSampleSize = 16000, Seed = 1 }));
        var result = runner.Run(new DistillationJob { Teacher = teacher, Student = student, Train = source }, cancellationToken: ct);
        var saved = Path.Combine(settings.Output, "student");
        student.Save(saved);
        log.LogInformation("Done: {Steps} updates{Resumed}; student saved to {Student}; last checkpoint {Checkpoint}", result.Steps,
            result.ResumedFromStep is { } r ? $" (resumed from update {r})" : "", saved, result.LastCheckpoint);
    }

    private SpeechEncoder LoadOrBuildTeacher()
    {
        if (settings.Teacher is { } path) return encoders.Load(path);
        var folder = Path.Combine(settings.Output, "teacher");
        if (File.Exists(Path.Combine(folder, HArnESS.Checkpoints.SpeechEncoderCheckpoint.ConfigFileName))) return encoders.Load(folder);
        torch.manual_seed(1);
        var built = encoders.Create(TeacherConfig);
        encoders.Save(built, folder);
        built.eval();
        return built;
    }
}
