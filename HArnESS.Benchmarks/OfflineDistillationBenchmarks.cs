using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HArnESS.Data;
using HArnESS.Distillation.Offline;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Runtime;
using HArnESS.Training;
using TorchSharp;

namespace HArnESS.Benchmarks;

/// <summary>
/// One distillation epoch over the demo corpus's training split (data/demo/train.tsv: 115 utterances, 8 per batch,
/// random crops of at most 1.5 s, as the distillation tests train) with the teacher online (it runs every step) or
/// offline (its layers dumped once by <see cref="OfflineTeacherTargets.Dump"/> in the set-up, outside the timing, and
/// read back per batch). Pairs: <c>tiny</c> = a 4-layer, 48-wide teacher with a 32-channel CNN and a 2-layer student
/// of the same shape predicting layers 2 and 4 (the tests' pair); <c>base</c> = a random HuBERT-base-shaped teacher
/// (12 × 768) and the DistilHuBERT preset (layers 4/8/12), slow on a small CPU
/// (<c>HARNESS_BENCH_OFFLINE_PAIRS=tiny,base</c>). The speed-up is online / offline epoch time. Run:
/// <c>dotnet run -c Release --project HArnESS.Benchmarks -- --group offline</c>.
/// </summary>
[Config(typeof(OfflineBenchmarkConfig))]
public class OfflineDistillationBenchmarks
{
    private static readonly SpeechEncoderConfig Tiny = EncoderPresets.TinyPostLn with
    {
        FrontEnd = new CnnFrontEndConfig { Layers = [new(32, 10, 5), new(32, 3, 2), new(32, 3, 2), new(32, 3, 2), new(32, 3, 2), new(32, 2, 2), new(32, 2, 2)] },
        HiddenSize = 48, NumHeads = 4, IntermediateSize = 96, PosConvKernel = 16, PosConvGroups = 4, NumLayers = 4,
        HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0,
    };

    private string? _dir;
    private DistillationTeacher? _teacher;
    private DistillationStudent? _student;
    private OfflineTeacherTargets? _targets;
    private Trainer<AudioBatch>? _trainer;
    private int _batchesPerEpoch;

    /// <summary>The teacher/student pair: tiny or base.</summary>
    [ParamsSource(nameof(Pairs))]
    public string Pair { get; set; } = "tiny";

    /// <summary>online (the teacher runs every step) or offline (dumped targets).</summary>
    [Params("online", "offline")]
    public string Mode { get; set; } = "online";

    /// <summary>tiny, or the comma-separated list in HARNESS_BENCH_OFFLINE_PAIRS.</summary>
    public static IEnumerable<string> Pairs() =>
        Environment.GetEnvironmentVariable("HARNESS_BENCH_OFFLINE_PAIRS") is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["tiny"];

    /// <summary>The demo corpus's training manifest, found above the working folder or the binaries.</summary>
    public static string DemoTrain()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var p = Path.Combine(d.FullName, "data", "demo", "train.tsv");
                if (File.Exists(p)) return p;
            }
        throw new FileNotFoundException("data/demo/train.tsv not found above the working folder; run from the repository.");
    }

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        torch.manual_seed(0);
        var train = Manifest.Load(DemoTrain());
        int[] layers;
        if (Pair == "base")
        {
            _teacher = new DistillationTeacher(new SpeechEncoder(EncoderPresets.HubertBase));
            _student = new DistillationStudent(StudentPresets.DistilHubert());
            layers = [4, 8, 12];
        }
        else
        {
            _teacher = new DistillationTeacher(new SpeechEncoder(Tiny));
            layers = [2, 4];
            _student = new DistillationStudent(new DistillationStudentConfig
            {
                Encoder = Tiny with { NumLayers = 2 }, Mode = StudentHeadMode.PredictionHeads, TeacherLayers = layers, TeacherDim = 48,
            });
        }
        ITrainingObjective<AudioBatch> objective;
        if (Mode == "offline")
        {
            _dir = Path.Combine(Path.GetTempPath(), "harness-bench-offline-" + Guid.NewGuid().ToString("N"));
            _targets = OfflineTeacherTargets.Dump(_teacher, train, layers, new OfflineTargetsOptions { Directory = _dir });
            objective = new OfflineDistillationObjective(_student, _targets);
        }
        else
        {
            objective = new DistillationObjective(_teacher, _student);
        }
        var loader = new AudioLoader(new AudioDataset(train), new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 24_000, Seed = 4 });
        _batchesPerEpoch = loader.Count;
        var options = new TrainerOptions { MaxSteps = 1_000_000, LearningRate = 2e-4, MaxGradientNorm = 10, LogEvery = 1_000_000 };
        _trainer = new Trainer<AudioBatch>([new("student", _student)], objective, new AudioLoaderBatchSource(loader), options);
    }

    /// <summary>One epoch (every batch of the training split once).</summary>
    [Benchmark]
    public long Epoch() => _trainer!.RunUpdates(_batchesPerEpoch).Steps;

    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer?.Dispose();
        _targets?.Dispose();
        _student?.Dispose();
        _teacher?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>In-process job for epoch benchmarks: 1 warm-up epoch, 3 measured.</summary>
public sealed class OfflineBenchmarkConfig : ManualConfig
{
    /// <summary>The job.</summary>
    public OfflineBenchmarkConfig() =>
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)).WithLaunchCount(1).WithWarmupCount(1)
            .WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
}
