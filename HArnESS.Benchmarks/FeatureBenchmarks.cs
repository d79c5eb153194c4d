using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using HArnESS.Features;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Benchmarks;

/// <summary>
/// Fbank (80 bins) and MFCC (13 cepstra) throughput on 10 s of 16 kHz audio, one utterance or a batch of 8, with
/// libtorch on 1 thread and on its default thread count. One operation = one second of audio, so the
/// <c>AudioSecPerSec</c> column is seconds of audio processed per second. The reference is
/// <c>scripts/bench/features_reference.py</c> (torchaudio.compliance.kaldi on the same signal).
/// Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --filter '*FeatureBenchmarks*' --job short</c>.
/// </summary>
[Config(typeof(FeatureBenchmarkConfig))]
public class FeatureBenchmarks
{
    private const int SampleRate = 16000;
    private const int Seconds = 10;
    private Fbank _fbank = null!;
    private Mfcc _mfcc = null!;
    private Tensor _one = null!;
    private Tensor _eight = null!;
    private Tensor _oneLength = null!;
    private Tensor _eightLengths = null!;

    /// <summary>libtorch intra-op threads; 0 = libtorch's default.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    /// <summary>Builds the extractors and the deterministic test signal (same formula as the Python reference).</summary>
    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        torch.set_num_threads(Threads > 0 ? Threads : Environment.ProcessorCount);
        _fbank = new Fbank(FbankOptions.Default80);
        _mfcc = new Mfcc();
        _one = Signal();
        _eight = _one.unsqueeze(0).expand(8, -1).contiguous();
        _oneLength = tensor(new long[] { _one.shape[0] });
        using var oneLength = _one.shape[0].ToScalar();
        _eightLengths = full(8, oneLength, ScalarType.Int64);
        // Warm the constant-tensor caches outside the measurement.
        using var scope = NewDisposeScope();
        _fbank.Compute(_one);
        _mfcc.Compute(_one);
    }

    /// <summary>x[n] = 0.3 sin(2π·440 n / 16000) + 0.05 sin(2π·3000 n / 16000) + 0.01 · ((n·7919 mod 1000) / 1000 - 0.5).</summary>
    public static Tensor Signal()
    {
        var x = new float[SampleRate * Seconds];
        for (var n = 0; n < x.Length; n++)
            x[n] = (float)(0.3 * Math.Sin(2 * Math.PI * 440 * n / SampleRate) + 0.05 * Math.Sin(2 * Math.PI * 3000 * n / SampleRate)
                           + 0.01 * ((n * 7919L % 1000) / 1000.0 - 0.5));
        return tensor(x);
    }

    /// <summary>Fbank 80, one 10 s utterance.</summary>
    [Benchmark(OperationsPerInvoke = Seconds)]
    public long Fbank80_Batch1()
    {
        using var scope = NewDisposeScope();
        return _fbank.Compute(_one.unsqueeze(0), _oneLength).Features.shape[1];
    }

    /// <summary>Fbank 80, eight 10 s utterances in one padded batch.</summary>
    [Benchmark(OperationsPerInvoke = 8 * Seconds)]
    public long Fbank80_Batch8()
    {
        using var scope = NewDisposeScope();
        return _fbank.Compute(_eight, _eightLengths).Features.shape[1];
    }

    /// <summary>MFCC 13 (23 bins), one 10 s utterance.</summary>
    [Benchmark(OperationsPerInvoke = Seconds)]
    public long Mfcc_Batch1()
    {
        using var scope = NewDisposeScope();
        return _mfcc.Compute(_one.unsqueeze(0), _oneLength).Features.shape[1];
    }

    /// <summary>MFCC 13 (23 bins), eight 10 s utterances in one padded batch.</summary>
    [Benchmark(OperationsPerInvoke = 8 * Seconds)]
    public long Mfcc_Batch8()
    {
        using var scope = NewDisposeScope();
        return _mfcc.Compute(_eight, _eightLengths).Features.shape[1];
    }

    private sealed class FeatureBenchmarkConfig : ManualConfig
    {
        public FeatureBenchmarkConfig() => AddColumn(new AudioRateColumn(_ => 1, "Seconds of audio processed per second (1 s / Mean)", "F0", "AudioSecPerSec"));
    }

}
