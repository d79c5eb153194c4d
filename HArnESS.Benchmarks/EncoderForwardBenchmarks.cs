using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HArnESS.Encoders;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Benchmarks;

/// <summary>
/// Inference forward pass (eval, no_grad) of HuBERT base, DistilHuBERT and an fbank-front-end student
/// (fbank → 2-frame stack → 512 → DistilHuBERT's 2 × 768 transformer) on 10 s of 16 kHz audio, batch 1 and 8.
/// Extra columns: real-time factor (wall time / audio time), GFLOP/s from <see cref="EncoderCost.CountMacs"/>
/// (2 FLOPs per MAC) and that as a share of the CPU's estimated fp32 peak (cores × clock × 32 FLOP/cycle for
/// AVX2 FMA, 64 with AVX-512; override with HARNESS_PEAK_GFLOPS). The fbank student is timed from precomputed
/// log-Mel features [batch, 998, 80] (the fbank itself is the Features area's cost).
/// Reference: <c>/usr/bin/python3 scripts/bench/encoder_reference.py</c> times torchaudio's equivalent models.
/// Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --filter '*EncoderForward*'</c>
/// (<c>HARNESS_BENCH_MODELS=distilhubert,fbank-student</c> limits the models).
/// </summary>
[Config(typeof(EncoderForwardConfig))]
public class EncoderForwardBenchmarks
{
    /// <summary>Seconds of audio per utterance.</summary>
    public const int Seconds = 10;

    /// <summary>16 kHz samples per utterance.</summary>
    public const int Samples = Seconds * 16_000;

    private SpeechEncoder? _model;
    private Tensor? _input;

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "hubert-base";

    /// <summary>Teacher presets hubert-base and wav2vec2-base, students distilhubert, fbank-student and subsampler-student (80 Mel → Conv1d(k 5, stride 2) + GLU
    /// → 512 → DistilHuBERT's transformer), or the comma-separated list in HARNESS_BENCH_MODELS.</summary>
    public static IEnumerable<string> Models() =>
        Environment.GetEnvironmentVariable("HARNESS_BENCH_MODELS") is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["hubert-base", "wav2vec2-base", "distilhubert", "fbank-student", "subsampler-student"];

    [Params(1, 8)]
    public int Batch { get; set; } = 1;

    /// <summary>The encoder config a benchmark name stands for.</summary>
    public static SpeechEncoderConfig ConfigFor(string model) =>
        model switch
        {
            "fbank-student" => EncoderPresets.FbankDistilHubert,
            "subsampler-student" => EncoderPresets.DistilHubert with { FrontEnd = new HArnESS.Modules.Conv1dSubsamplerConfig() },
            _ => EncoderPresets.Get(model),
        };

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        manual_seed(0);
        _model = new SpeechEncoder(ConfigFor(Model));
        _model.eval();
        var frontEnd = _model.Config.FrontEnd;
        _input = frontEnd.TakesWaveforms
            ? randn(Batch, Samples).mul(Scalars.Of(0.1))
            : randn(Batch, frontEnd.InputFrames(Samples), frontEnd switch
            {
                HArnESS.Modules.FbankFrontEndConfig f => f.Input.FeatureDim,
                HArnESS.Modules.Conv1dSubsamplerConfig c => c.Input.FeatureDim,
                _ => throw new InvalidOperationException($"No benchmark input for front-end '{frontEnd.Kind}'."),
            });
    }

    [Benchmark]
    public long Forward()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var output = _model!.ForwardFeatures(_input!);
        return output.LastHiddenState.shape[1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _input?.Dispose();
        _model?.Dispose();
    }
}

/// <summary>Short in-process job (these passes take seconds on a small CPU) plus the RTF and GFLOP/s columns.</summary>
public sealed class EncoderForwardConfig : ManualConfig
{
    public EncoderForwardConfig()
    {
        // In-process with a long timeout: one HuBERT-base batch of 8 × 10 s takes about a minute on 2 shared cores.
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)).WithLaunchCount(1).WithWarmupCount(1)
            .WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.RealTimeFactor), new ThroughputColumn(ThroughputColumn.Kind.GFlops),
            new ThroughputColumn(ThroughputColumn.Kind.PeakShare));
    }
}

/// <summary>Derived columns: real-time factor, GFLOP/s and share of the estimated peak.</summary>
public sealed class ThroughputColumn(ThroughputColumn.Kind kind) : IColumn
{
    public enum Kind { RealTimeFactor, GFlops, PeakShare }

    /// <summary>Estimated fp32 peak of this machine in GFLOP/s.</summary>
    public static double PeakGflops { get; } = EstimatePeak();

    public string Id => $"{nameof(ThroughputColumn)}.{kind}";
    public string ColumnName => kind switch
    {
        Kind.RealTimeFactor => "RTF",
        Kind.GFlops => "GFLOP/s",
        _ => $"% of {PeakGflops:F0} GFLOP/s",
    };
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => (int)kind;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => kind switch
    {
        Kind.RealTimeFactor => "Wall time / audio time (batch × 10 s); < 1 is faster than real time",
        Kind.GFlops => "2 × EncoderCost.CountMacs × batch / mean time",
        _ => "GFLOP/s over cores × clock × FLOP/cycle (AVX2 FMA: 32, AVX-512: 64) or HARNESS_PEAK_GFLOPS",
    };
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (mean is null) return "NA";
        var seconds = mean.Value / 1e9;
        var batch = (int)benchmarkCase.Parameters["Batch"];
        var model = (string)benchmarkCase.Parameters["Model"];
        var gflops = 2.0 * EncoderCost.CountMacs(EncoderForwardBenchmarks.ConfigFor(model), EncoderForwardBenchmarks.Samples) * batch / seconds / 1e9;
        return kind switch
        {
            Kind.RealTimeFactor => (seconds / (batch * EncoderForwardBenchmarks.Seconds)).ToString("F3"),
            Kind.GFlops => gflops.ToString("F1"),
            _ => (100 * gflops / PeakGflops).ToString("F1"),
        };
    }

    private static double EstimatePeak()
    {
        if (double.TryParse(Environment.GetEnvironmentVariable("HARNESS_PEAK_GFLOPS"), out var given)) return given;
        double mhz = 2500;
        var flopsPerCycle = 32;
        try
        {
            var info = File.ReadAllLines("/proc/cpuinfo");
            var line = info.FirstOrDefault(l => l.StartsWith("cpu MHz", StringComparison.Ordinal));
            if (line is not null && double.TryParse(line.Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture, out var m)) mhz = m;
            if (info.Any(l => l.StartsWith("flags", StringComparison.Ordinal) && l.Contains(" avx512f", StringComparison.Ordinal))) flopsPerCycle = 64;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return torch.get_num_threads() * mhz / 1000 * flopsPerCycle;
    }
}
