using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HArnESS.Audio;
using HArnESS.Data;
using HArnESS.Distillation.Pipelines;
using HArnESS.Distillation.Pretraining;
using HArnESS.Distillation.Students;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Runtime;
using HArnESS.Training;
using TorchSharp;

namespace HArnESS.Benchmarks;

/// <summary>
/// One optimiser update of each training job through its real objective, loader and trainer (forward, backward,
/// clipping, AdamW), on a synthetic corpus of 4 s, 16 kHz utterances written to a temporary folder: masked
/// pre-training (<see cref="MaskedPretrainingObjective"/>, random k-means-style labels at 50 Hz),
/// distillation (<see cref="DistillationObjective"/>: the DistilHuBERT preset from a random HuBERT-base-shaped
/// teacher, 12 × 768, predicting layers 4/8/12; issue 11's "one distillation step at published shape") and
/// fine-tuning (<see cref="ClassificationTask"/>: a mean-pooled classifier on a small upstream trained in full).
/// Batch: 2 utterances. Devices: cpu, and cuda when libtorch sees a GPU. Extra column "audio s/s": audio seconds
/// trained per wall second (batch × 4 s / mean time). Run:
/// <c>dotnet run -c Release --project HArnESS.Benchmarks -- --group steps</c>.
/// </summary>
public static class StepCorpus
{
    /// <summary>Seconds per utterance.</summary>
    public const int Seconds = 4;

    /// <summary>Utterances per batch.</summary>
    public const int Batch = 2;

    /// <summary>The devices to measure: cpu, plus cuda when available.</summary>
    public static IEnumerable<string> Devices()
    {
        HArnessRuntime.EnsureInitialized();
        return torch.cuda.is_available() ? ["cpu", "cuda"] : ["cpu"];
    }

    /// <summary>Writes <paramref name="count"/> seeded noise-and-tone utterances of <see cref="Seconds"/> s, a manifest,
    /// a unit label file (<c>.km</c>, 50 Hz, <paramref name="units"/> classes) and a class label file (<c>.emo</c>,
    /// four classes).</summary>
    public static string Write(string dir, int count = Batch, int units = 100)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(7);
        var lines = new List<string> { dir };
        var km = new List<string>();
        var emo = new List<string>();
        var n = Seconds * 16_000;
        for (var i = 0; i < count; i++)
        {
            var s = new float[n];
            var f = 100 + 40 * i;
            for (var j = 0; j < n; j++) s[j] = (float)(0.3 * Math.Sin(2 * Math.PI * f * j / 16_000.0) + 0.05 * (rng.NextDouble() * 2 - 1));
            var name = $"u{i}.wav";
            WavWriter.Write(Path.Combine(dir, name), new AudioClip(s, 16_000));
            lines.Add($"{name}\t{n}");
            km.Add(string.Join(' ', Enumerable.Range(0, Seconds * 50).Select(_ => rng.Next(units).ToString(CultureInfo.InvariantCulture))));
            emo.Add(new[] { "angry", "happy", "neutral", "sad" }[i % 4]);
        }
        var tsv = Path.Combine(dir, "train.tsv");
        File.WriteAllLines(tsv, lines);
        File.WriteAllLines(Path.Combine(dir, "train.km"), km);
        File.WriteAllLines(Path.Combine(dir, "train.emo"), emo);
        return tsv;
    }

    /// <summary>A loader that gives the same <see cref="Batch"/> utterances every step.</summary>
    public static AudioLoaderBatchSource Source(AudioDataset set) =>
        new(new AudioLoader(set, new AudioLoaderOptions { BatchSize = Batch, Shuffle = false, Prefetch = 0 }));

    /// <summary>The trainer options of every step benchmark on <paramref name="device"/>.</summary>
    public static TrainerOptions Options(string device) =>
        new() { MaxSteps = 1_000_000, LearningRate = 1e-4, MaxGradientNorm = 10, LogEvery = 1_000_000, Device = torch.device(device) };
}

/// <summary>One masked pre-training update (HuBERT's loss on 50 Hz labels, 100 classes) of a tiny model and a
/// HuBERT-base-shaped one (12 × 768), batch 2 × 4 s; see <see cref="StepCorpus"/>.</summary>
[Config(typeof(StepBenchmarkConfig))]
public class PretrainingStepBenchmarks
{
    private string? _dir;
    private SpeechEncoder? _encoder;
    private MaskedPredictionHead? _head;
    private Trainer<AudioBatch>? _trainer;

    /// <summary>Encoder preset.</summary>
    [Params("tiny-post-ln", "hubert-base")]
    public string Model { get; set; } = "tiny-post-ln";

    /// <summary>cpu or cuda.</summary>
    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>cpu, plus cuda when available.</summary>
    public static IEnumerable<string> Devices() => StepCorpus.Devices();

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        torch.manual_seed(0);
        _dir = Path.Combine(Path.GetTempPath(), "harness-bench-pretrain-" + Guid.NewGuid().ToString("N"));
        var manifest = Manifest.Load(StepCorpus.Write(_dir));
        var set = new AudioDataset(manifest, null, [LabelFile.Load(Path.Combine(_dir, "train.km"), manifest, LabelKind.Units)]);
        _encoder = SpeechEncoder.FromPreset(Model);
        _head = new MaskedPredictionHead(_encoder.HiddenSize, 100, 256);
        var objective = new MaskedPretrainingObjective(_encoder, _head, new MaskedPretrainingOptions { LabelRate = 50 });
        _trainer = new Trainer<AudioBatch>(objective.Modules, objective, StepCorpus.Source(set), StepCorpus.Options(Device));
    }

    /// <summary>One update.</summary>
    [Benchmark]
    public long Step() => _trainer!.RunUpdates(1).Steps;

    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer?.Dispose();
        _head?.Dispose();
        _encoder?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>One distillation update of the DistilHuBERT preset (CNN + 2 × 768, heads for 4/8/12) from a random
/// HuBERT-base-shaped teacher (12 × 768, frozen, online), batch 2 × 4 s; see <see cref="StepCorpus"/>.</summary>
[Config(typeof(StepBenchmarkConfig))]
public class DistillationStepBenchmarks
{
    private string? _dir;
    private DistillationTeacher? _teacher;
    private DistillationStudent? _student;
    private Trainer<AudioBatch>? _trainer;

    /// <summary>cpu or cuda.</summary>
    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>cpu, plus cuda when available.</summary>
    public static IEnumerable<string> Devices() => StepCorpus.Devices();

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        torch.manual_seed(0);
        _dir = Path.Combine(Path.GetTempPath(), "harness-bench-distil-" + Guid.NewGuid().ToString("N"));
        var set = new AudioDataset(Manifest.Load(StepCorpus.Write(_dir)));
        var device = torch.device(Device);
        _teacher = new DistillationTeacher(new SpeechEncoder(EncoderPresets.HubertBase));
        _teacher.Encoder.to(device);
        _student = new DistillationStudent(StudentPresets.DistilHubert());
        var objective = new DistillationObjective(_teacher, _student);
        _trainer = new Trainer<AudioBatch>(objective.Modules, objective, StepCorpus.Source(set), StepCorpus.Options(Device));
    }

    /// <summary>One update (teacher forward included).</summary>
    [Benchmark]
    public long Step() => _trainer!.RunUpdates(1).Steps;

    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer?.Dispose();
        _student?.Dispose();
        _teacher?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>One fine-tuning update of a four-class utterance classifier (mean pooling, one hidden layer, weighted sum of
/// the upstream's layers) on a small upstream trained in full (tiny-post-ln, or the DistilHuBERT-shaped student),
/// batch 2 × 4 s; see <see cref="StepCorpus"/>.</summary>
[Config(typeof(StepBenchmarkConfig))]
public class FineTuningStepBenchmarks
{
    private string? _dir;
    private SpeechEncoder? _encoder;
    private ClassificationTask? _task;
    private Trainer<AudioBatch>? _trainer;

    /// <summary>The upstream preset.</summary>
    [Params("tiny-post-ln", "distilhubert")]
    public string Upstream { get; set; } = "tiny-post-ln";

    /// <summary>cpu or cuda.</summary>
    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>cpu, plus cuda when available.</summary>
    public static IEnumerable<string> Devices() => StepCorpus.Devices();

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        torch.manual_seed(0);
        _dir = Path.Combine(Path.GetTempPath(), "harness-bench-finetune-" + Guid.NewGuid().ToString("N"));
        var manifest = Manifest.Load(StepCorpus.Write(_dir));
        var emo = LabelFile.Load(Path.Combine(_dir, "train.emo"), manifest, LabelKind.Class);
        var set = new AudioDataset(manifest, null, [emo]);
        _encoder = SpeechEncoder.FromPreset(Upstream);
        var upstream = new UpstreamModel(_encoder, new UpstreamOptions { Training = UpstreamTraining.Full });
        _task = new ClassificationTask("ser", "emo", new LabelSet(["angry", "happy", "neutral", "sad"]), upstream);
        var objective = new DownstreamTrainingObjective(new DownstreamObjective(upstream, (_task, 1.0)));
        _trainer = new Trainer<AudioBatch>(objective.TrainableModules(), objective, StepCorpus.Source(set), StepCorpus.Options(Device));
    }

    /// <summary>One update.</summary>
    [Benchmark]
    public long Step() => _trainer!.RunUpdates(1).Steps;

    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer?.Dispose();
        _task?.Dispose();
        _encoder?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>In-process job for the step benchmarks (1 warm-up, 3 measured updates) with the audio s/s column.</summary>
public sealed class StepBenchmarkConfig : ManualConfig
{
    /// <summary>The job and the column.</summary>
    public StepBenchmarkConfig()
    {
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)).WithLaunchCount(1).WithWarmupCount(1)
            .WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
        AddColumn(new AudioRateColumn(_ => StepCorpus.Batch * StepCorpus.Seconds,
            "Audio seconds trained per wall-clock second: batch × seconds / mean time of one update"));
    }

}
