using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HArnESS.Encoders;
using HArnESS.Runtime;
using HArnESS.Training;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Benchmarks;

/// <summary>
/// One optimiser update of the trainer (forward, backward, global-norm clipping, AdamW over every parameter) for a
/// tiny encoder and a DistilHuBERT-sized one (CNN + 2 × 768, plus a linear head regressing 3 × 768 targets, as its
/// prediction heads do), batch 4 × 4 s of 16 kHz audio, float32 on the CPU. The column "audio s/s" is
/// batch × seconds / mean time. Run:
/// <c>dotnet run -c Release --project HArnESS.Benchmarks -- --filter '*TrainingBenchmarks*'</c>
/// (<c>HARNESS_BENCH_TRAIN_MODELS=tiny-post-ln</c> limits the models).
/// </summary>
[Config(typeof(TrainingBenchmarkConfig))]
public class TrainingBenchmarks
{
    /// <summary>Seconds of audio per utterance.</summary>
    public const int Seconds = 4;

    /// <summary>Utterances per batch.</summary>
    public const int BatchSize = 4;

    private SpeechEncoder? _encoder;
    private TorchSharp.Modules.Linear? _head;
    private Trainer<Batch>? _trainer;

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "tiny-post-ln";

    /// <summary>tiny-post-ln and distilhubert, or the comma-separated list in HARNESS_BENCH_TRAIN_MODELS.</summary>
    public static IEnumerable<string> Models() =>
        Environment.GetEnvironmentVariable("HARNESS_BENCH_TRAIN_MODELS") is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["tiny-post-ln", "distilhubert"];

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        manual_seed(0);
        _encoder = new SpeechEncoder(EncoderPresets.Get(Model));
        _head = nn.Linear(_encoder.HiddenSize, 3 * _encoder.HiddenSize);
        var rng = new Random(1);
        var wave = Enumerable.Range(0, BatchSize * Seconds * 16_000).Select(_ => (float)(rng.NextDouble() * 0.2 - 0.1)).ToArray();
        var source = new InMemoryBatchSource<int, Batch>(Enumerable.Range(0, BatchSize).ToArray(), BatchSize,
            _ => new Batch(tensor(wave, [BatchSize, Seconds * 16_000])), shuffle: false, audioSeconds: _ => BatchSize * Seconds);
        var options = new TrainerOptions { MaxSteps = 1_000_000, LearningRate = 1e-4, MaxGradientNorm = 10, LogEvery = 1_000_000 };
        _trainer = new Trainer<Batch>([new("encoder", _encoder), new("head", _head)], new Regression(_encoder, _head), source, options);
    }

    /// <summary>One update.</summary>
    [Benchmark]
    public long OptimiserStep() => _trainer!.RunUpdates(1).Steps;

    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer?.Dispose();
        _head?.Dispose();
        _encoder?.Dispose();
    }

    /// <summary>A batch of one padded waveform tensor.</summary>
    public sealed class Batch(Tensor waveforms) : IDisposable
    {
        /// <summary><c>[batch, time]</c>.</summary>
        public Tensor Waveforms { get; } = waveforms;

        /// <summary>Disposes the tensor.</summary>
        public void Dispose() => Waveforms.Dispose();
    }

    // L1 between the head's output and fixed pseudo-targets (the shape of DistilHuBERT's 3-head regression).
    private sealed class Regression(SpeechEncoder encoder, TorchSharp.Modules.Linear head) : ITrainingObjective<Batch>
    {
        public TrainingLoss Compute(Batch batch, TrainingStepContext context)
        {
            using var output = encoder.Forward(context.CastInput(batch.Waveforms));
            var predicted = head.forward(output.LastHiddenState);
            using var target = zeros_like(predicted).add_(Scalars.Of(0.5), Scalars.One);
            return TrainingLoss.Single(nn.functional.l1_loss(predicted, target), "l1", batch.Waveforms.shape[0]);
        }
    }
}

/// <summary>In-process job with a long timeout (a DistilHuBERT update takes seconds on a small CPU) and the audio s/s column.</summary>
public sealed class TrainingBenchmarkConfig : ManualConfig
{
    public TrainingBenchmarkConfig()
    {
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)).WithLaunchCount(1).WithWarmupCount(1)
            .WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
        AddColumn(new AudioRateColumn(_ => TrainingBenchmarks.BatchSize * TrainingBenchmarks.Seconds,
            "Audio seconds trained per wall-clock second: batch × seconds / mean time of one update", "F1"));
    }

}
