using BenchmarkDotNet.Attributes;
using HArnESS.Audio;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

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
        using var fromS = from.ToScalar();
        using var time = Scalars.Arange(Seconds * from, dtype: ScalarType.Float64).div(fromS);
        using var tones = torch.sin(time.mul(Scalars.Of(2 * Math.PI * 440))).mul(Scalars.Of(0.3)).add(torch.sin(time.mul(Scalars.Of(2 * Math.PI * 3000))).mul(Scalars.Of(0.2)), Scalars.One);
        using var noise = torch.rand([Batch, Seconds * from], dtype: ScalarType.Float64, generator: g).sub(Scalars.Of(0.5)).mul(Scalars.Of(0.1));
        _input = tones.add(noise, Scalars.One).to(ScalarType.Float32);
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
