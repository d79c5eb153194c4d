using HArnESS.Data;
using HArnESS.DependencyInjection;
using HArnESS.Distillation.DependencyInjection;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Runtime;
using HArnESS.Tests.Runtime;
using HArnESS.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NUnit.Framework;

namespace HArnESS.Tests.DependencyInjection;

/// <summary>AddHArness (Core) and AddHArnessDistillation: what they register, validation on start, loggers.</summary>
public sealed class HArnessServicesTests
{
    private RuntimeInfo? _before;
    private IDisposable? _random;

    [SetUp]
    public void SaveRuntime()
    {
        _before = HArnessRuntime.Current;
        _random = RuntimeState.PreserveRandomState();
    }

    [TearDown]
    public void RestoreRuntime()
    {
        _random?.Dispose();
        RuntimeState.Restore(_before);
    }

    private static readonly SpeechEncoderConfig Tiny = EncoderPresets.TinyPostLn with
    {
        MaskTimeProb = 0, HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0,
    };

    private static ServiceProvider Build(RecordingLoggerFactory logs, Func<HArnessServicesBuilder, HArnessServicesBuilder>? core = null,
        Func<DistillationServiceOptions, DistillationServiceOptions>? distillation = null) =>
        new ServiceCollection().AddSingleton<ILoggerFactory>(logs)
            .AddHArness(h => (core ?? (x => x))(h.Runtime(o => o with { Device = ComputeDevice.Cpu }).Trainer(o => o with { MaxSteps = 2 })))
            .AddHArnessDistillation(distillation)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

    [Test]
    public void EveryServiceResolvesWithTheConfiguredOptionsAndTheContainersLogger()
    {
        using var logs = new RecordingLoggerFactory();
        using var provider = Build(logs, h => h.Trainer(o => o with { LearningRate = 1e-3, CheckpointEvery = 5 }),
            o => o with { Loss = RegressionLossOptions.Mse });
        provider.GetRequiredService<IStartupValidator>().Validate();

        var trainer = provider.GetRequiredService<IOptions<TrainerOptions>>().Value;
        Assert.That((trainer.MaxSteps, trainer.LearningRate, trainer.CheckpointEvery), Is.EqualTo((2L, 1e-3, 5)));
        Assert.That(trainer.LoggerFactory, Is.SameAs(logs));
        Assert.That(provider.GetRequiredService<TrainerOptions>(), Is.SameAs(trainer));
        Assert.That(provider.GetRequiredService<ITrainerFactory>().Options, Is.SameAs(trainer));
        Assert.That(provider.GetRequiredService<RuntimeOptions>().LoggerFactory, Is.SameAs(logs));

        var distillation = provider.GetRequiredService<DistillationServiceOptions>();
        Assert.That(distillation.Loss, Is.EqualTo(RegressionLossOptions.Mse));
        Assert.That(distillation.LoggerFactory, Is.SameAs(logs));
        Assert.That(provider.GetRequiredService<DistillationJobRunner>().TrainerOptions, Is.SameAs(trainer));
        Assert.That(provider.GetRequiredService<TargetGeneratorService>(), Is.SameAs(provider.GetRequiredService<TargetGeneratorService>()));

        using var encoder = provider.GetRequiredService<ISpeechEncoderFactory>().Create(Tiny);
        Assert.That(provider.GetRequiredService<RuntimeInfo>().Device.type, Is.EqualTo(TorchSharp.DeviceType.CPU));
        Assert.That((encoder.NumLayers, encoder.HiddenSize), Is.EqualTo((2, 32)));
        Assert.That(logs.Entries, Has.Some.Matches<(LogLevel Level, string Category, string Message)>(e =>
            e.Category == "HArnESS.Encoders.SpeechEncoderFactory" && e.Message.Contains("2 layers × 32", StringComparison.Ordinal)));
    }

    [Test]
    public void SeveralCallsComposeInOrderAndAnExplicitLoggerIsKept()
    {
        using var logs = new RecordingLoggerFactory();
        using var own = new RecordingLoggerFactory();
        using var provider = new ServiceCollection().AddSingleton<ILoggerFactory>(logs)
            .AddHArness(h => h.Trainer(o => o with { MaxSteps = 10, LoggerFactory = own }))
            .AddHArness(h => h.Trainer(o => o with { MaxSteps = o.MaxSteps * 3 }))
            .BuildServiceProvider();
        var options = provider.GetRequiredService<TrainerOptions>();
        Assert.That(options.MaxSteps, Is.EqualTo(30));
        Assert.That(options.LoggerFactory, Is.SameAs(own));
        Assert.That(provider.GetServices<IValidateOptions<TrainerOptions>>().Count(), Is.EqualTo(1), "one validator, however many calls");
    }

    [Test]
    public void StartReportsEveryInvalidOptionOfEveryTypeAtOnce()
    {
        using var logs = new RecordingLoggerFactory();
        using var provider = Build(logs,
            h => h.Runtime(o => o with { Threads = 0 }).Trainer(o => o with { MaxSteps = 0, LearningRate = -1, KeepLastCheckpoints = 0 }),
            o => o with { Loss = o.Loss with { SimilarityWeight = -1, CosineEpsilon = 0 } });
        var e = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate())!;
        var byType = e.InnerExceptions.Cast<OptionsValidationException>().ToDictionary(x => x.OptionsType, x => x.Failures.ToArray());
        Assert.That(byType.Keys, Is.EquivalentTo(new[] { typeof(RuntimeOptions), typeof(TrainerOptions), typeof(DistillationServiceOptions) }));
        Assert.That(byType[typeof(RuntimeOptions)], Has.Exactly(1).StartWith("Threads:"));
        Assert.That(byType[typeof(TrainerOptions)].Select(f => f.Split(':')[0]), Is.EquivalentTo(new[] { "MaxSteps", "LearningRate", "KeepLastCheckpoints" }));
        Assert.That(byType[typeof(DistillationServiceOptions)].Select(f => f.Split(':')[0]), Is.EquivalentTo(new[] { "Loss.SimilarityWeight", "Loss.CosineEpsilon" }));
        Assert.That(() => provider.GetRequiredService<DistillationJobRunner>(), Throws.TypeOf<OptionsValidationException>());
    }

    [Test]
    public void AddHArnessWithoutTrainerStepsFailsOnStartNamingMaxSteps()
    {
        using var provider = new ServiceCollection().AddHArness().BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate())!;
        Assert.That(e.OptionsType, Is.EqualTo(typeof(TrainerOptions)));
        Assert.That(e.Failures.Single(), Does.StartWith("MaxSteps:"));
    }

    [Test]
    public void TheJobRunnerTrainsTheStudentAndLogsThroughTheContainer()
    {
        using var logs = new RecordingLoggerFactory();
        using var provider = Build(logs);
        TorchSharp.torch.manual_seed(1);
        using var teacher = new DistillationTeacher(provider.GetRequiredService<ISpeechEncoderFactory>().Create(Tiny));
        using var student = new DistillationStudent(new DistillationStudentConfig
        {
            Encoder = Tiny with { NumLayers = 1 }, Mode = StudentHeadMode.PredictionHeads, TeacherLayers = [1, 2], TeacherDim = 32,
        });
        var data = AudioDataset.Load(Path.Combine(TestPaths.RepoRoot, "data", "demo", "train.tsv"));
        var source = new AudioLoaderBatchSource(new AudioLoader(data, new AudioLoaderOptions { BatchSize = 2, MaxSampleSize = 4000, Seed = 1 }));
        var before = student.parameters().Select(p => p.detach().clone()).ToArray();
        var teacherBefore = teacher.Encoder.parameters().Select(p => p.detach().clone()).ToArray();

        var result = provider.GetRequiredService<DistillationJobRunner>().Run(new DistillationJob { Teacher = teacher, Student = student, Train = source });

        Assert.That((result.Steps, result.Reason, result.ResumedFromStep), Is.EqualTo((2L, StopReason.MaxSteps, (long?)null)));
        Assert.That(result.History.Records.Last().Terms.Keys, Is.SupersetOf(new[] { "loss", "rec_l1", "sim_l1", "rec_l2", "sim_l2" }));
        Assert.That(student.parameters().Zip(before).Any(x => !x.First.detach().allclose(x.Second, 0, 0)), Is.True, "the student was trained");
        Assert.That(teacher.Encoder.parameters().Zip(teacherBefore).All(x => x.First.detach().allclose(x.Second, 0, 0)), Is.True, "the teacher is frozen");
        Assert.That(logs.Entries.Select(e => e.Category), Is.SupersetOf(new[] { "HArnESS.Distillation.DistillationJobRunner", "HArnESS.Training.Trainer" }));
        Assert.That(logs.Entries, Has.Some.Matches<(LogLevel Level, string Category, string Message)>(e => e.Message.StartsWith("train: step 2/2", StringComparison.Ordinal)));
        foreach (var t in before.Concat(teacherBefore)) t.Dispose();
    }

    [Test]
    public void TheTargetGeneratorServiceLogsAnInvalidPlanWithEveryProblem()
    {
        using var logs = new RecordingLoggerFactory();
        using var provider = Build(logs);
        var targets = provider.GetRequiredService<TargetGeneratorService>();
        var plan = targets.From(Path.Combine(TestPaths.RepoRoot, "data", "demo", "train.tsv")); // no features, no k-means, no folder
        var e = Assert.ThrowsAsync<HArnessValidationException>(() => targets.FitAsync(plan))!;
        var logged = logs.Entries.Single(x => x.Category == "HArnESS.Distillation.Targets.TargetGenerator");
        Assert.That(logged.Level, Is.EqualTo(LogLevel.Error));
        foreach (var error in e.Errors) Assert.That(logged.Message, Does.Contain($"{error.Option}: {error.Message}"));
        Assert.That(e.Errors, Has.Count.GreaterThan(1));
    }
}
