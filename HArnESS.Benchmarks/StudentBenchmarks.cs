using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Modules;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Benchmarks;

/// <summary>
/// The same DistilHuBERT student (2 × 768 transformer, prediction heads for teacher layers 4/8/12) with the CNN, the
/// fbank front-end (80 Mel × 2 → 512) or the convolutional subsampler, on 16 kHz waveforms (the fbank is computed
/// inside the timed call, so the comparison includes feature extraction): inference (eval, no_grad) and one
/// distillation training step (forward, DistilHuBERT's L1 + cosine loss against fixed teacher targets, backward).
/// Wang et al. report the fbank student 2× faster than the CNN one with 17% fewer parameters (the parameter counts
/// are asserted in <c>HArnESS.Tests/Students</c>: 19,374,208 vs 23,492,224 encoder parameters, −17.5%). Extra
/// column: audio seconds processed per wall second.
/// Measured on the 2-core development VM (AMD EPYC 2.6 GHz, load average ≈ 3–4 from other builds, so ratios are
/// more trustworthy than absolute values), batch 2 × 4 s: inference CNN 334.8 ms (23.9 audio s/s), fbank 111.0 ms
/// (72.1), subsampler 111.4 ms (71.8); training step CNN 1,031 ms (7.8), fbank 382 ms (20.9), subsampler 413 ms
/// (19.4): the fbank student is 3.0× faster in inference and 2.7× in a training step. An earlier run under load
/// average ≈ 12 gave 1.6× / 1.2× with 20–30% spread.
/// Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --filter '*StudentBenchmarks*'</c>.
/// </summary>
[Config(typeof(StudentBenchmarkConfig))]
public class StudentBenchmarks
{
    /// <summary>Seconds of audio per utterance.</summary>
    public const int Seconds = 4;

    private DistillationStudent? _student;
    private Tensor? _wave;
    private Tensor[]? _targets;
    private readonly RegressionLoss _loss = new();

    /// <summary>The front-end: cnn, fbank or subsampler.</summary>
    [Params("cnn", "fbank", "subsampler")]
    public string FrontEnd { get; set; } = "cnn";

    /// <summary>Utterances per batch.</summary>
    [Params(2)]
    public int Batch { get; set; } = 2;

    /// <summary>The student config a front-end name stands for.</summary>
    public static DistillationStudentConfig ConfigFor(string frontEnd) => frontEnd switch
    {
        "fbank" => StudentPresets.DistilHubert(new FbankFrontEndConfig()),
        "subsampler" => StudentPresets.DistilHubert(new Conv1dSubsamplerConfig()),
        _ => StudentPresets.DistilHubert(),
    };

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        manual_seed(0);
        _student = new DistillationStudent(ConfigFor(FrontEnd));
        _wave = randn(Batch, Seconds * 16_000).mul(Scalars.Of(0.1));
        var frames = _student.Config.Encoder.FrontEnd.OutputFrames(Seconds * 16_000);
        _targets = Enumerable.Range(0, 3).Select(_ => randn(Batch, frames, 768)).ToArray();
    }

    [Benchmark]
    public long Inference()
    {
        _student!.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var output = _student.Forward(_wave!);
        return output.Predictions[0].shape[1];
    }

    [Benchmark]
    public double TrainStep()
    {
        _student!.train();
        using var scope = NewDisposeScope();
        _student.zero_grad();
        using var output = _student.Forward(_wave!);
        using var aligned = output.Align(_targets!);
        using var loss = _loss.Compute(aligned.Predictions, aligned.Targets, aligned.ValidFrames, aligned.TeacherLayers);
        loss.Total.backward();
        return loss.Total.item<float>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _wave?.Dispose();
        foreach (var t in _targets ?? []) t.Dispose();
        _student?.Dispose();
    }
}

/// <summary>Short in-process job plus the audio-seconds-per-second column.</summary>
public sealed class StudentBenchmarkConfig : ManualConfig
{
    public StudentBenchmarkConfig()
    {
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(20), logOutput: true)).WithLaunchCount(1).WithWarmupCount(1)
            .WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
        AddColumn(new AudioRateColumn(c => (int)c.Parameters["Batch"] * StudentBenchmarks.Seconds,
            "Seconds of 16 kHz audio processed per wall-clock second (batch × 4 s / mean time)", "F1"));
    }
}

