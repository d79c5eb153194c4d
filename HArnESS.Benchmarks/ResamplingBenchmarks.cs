using BenchmarkDotNet.Attributes;
using HArnESS.Audio;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Benchmarks;

/// <summary>
/// Resampling 10 s of audio per row to/from 16 kHz, batch 1 and 8, on the CPU, with <see cref="Resampler"/>
/// (torchaudio's default filter). The torchaudio 0.13 reference on the same input, same thread count:
/// <c>/usr/bin/python3 scripts/bench/resample_reference.py</c>; report the ratio of the two.
/// Threads: HARNESS_BENCH_THREADS (default 1).
/// </summary>
[MemoryDiagnoser]
public class ResamplingBenchmarks
{
    private const int Seconds = 10;
    private Tensor _input = null!;
    private Resampler _resampler = null!;

    /// <summary>Rate pair "from->to".</summary>
    [Params("44100->16000", "48000->16000", "22050->16000", "16000->48000")]
    public string Rates { get; set; } = "44100->16000";

    /// <summary>Rows per call.</summary>
    [Params(1, 8)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var threads = int.TryParse(Environment.GetEnvironmentVariable("HARNESS_BENCH_THREADS"), out var t) ? t : 1;
        HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Threads = threads });
        var parts = Rates.Split("->");
        int from = int.Parse(parts[0]), to = int.Parse(parts[1]);
        // Same signal as the reference script: two tones plus seeded uniform noise.
        using var g = new torch.Generator(1234);
        using var time = torch.arange(Seconds * from, dtype: ScalarType.Float64) / from;
        using var tones = (0.3 * torch.sin(2 * Math.PI * 440 * time)) + (0.2 * torch.sin(2 * Math.PI * 3000 * time));
        using var noise = 0.1 * (torch.rand([Batch, Seconds * from], dtype: ScalarType.Float64, generator: g) - 0.5);
        _input = (tones + noise).to(ScalarType.Float32);
        _resampler = new Resampler(from, to);
        _resampler.Forward(_input).Dispose(); // build and cache the filter bank
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _input.Dispose();
        _resampler.Dispose();
    }

    /// <summary>One call of <see cref="Resampler.Forward"/> on [batch, 10 s].</summary>
    [Benchmark]
    public long Resample()
    {
        using var y = _resampler.Forward(_input);
        return y.shape[1];
    }
}
