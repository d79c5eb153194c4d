using BenchmarkDotNet.Attributes;
using HArnESS.Modules;
using HArnESS.Runtime;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Benchmarks;

/// <summary>
/// The three front-ends alone, from 16 kHz waveforms (10 s per utterance, batch 1 and 8), inference (eval, no_grad):
/// the wav2vec 2.0 / HuBERT CNN (7 conv layers → 512 × 50 Hz), the fbank front-end (Kaldi fbank 80 → 2-frame stack →
/// 512) and the convolutional subsampler (fbank 80 → Conv1d(k 5, stride 2) + GLU → 512); the fbank is computed inside
/// the timed call. Weights are seeded random. There is no Python reference for a front-end alone; the encoder and
/// student benchmarks put them in context. Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --group frontends --job short</c>.
/// </summary>
public class FrontEndBenchmarks
{
    /// <summary>Seconds of audio per utterance.</summary>
    public const int Seconds = 10;

    private IFrontEnd? _frontEnd;
    private Tensor? _wave;

    /// <summary>cnn, fbank or subsampler.</summary>
    [Params("cnn", "fbank", "subsampler")]
    public string FrontEnd { get; set; } = "cnn";

    /// <summary>Utterances per call.</summary>
    [Params(1, 8)]
    public int Batch { get; set; } = 1;

    /// <summary>The config a front-end name stands for.</summary>
    public static FrontEndConfig ConfigFor(string frontEnd) => frontEnd switch
    {
        "fbank" => new FbankFrontEndConfig(),
        "subsampler" => new Conv1dSubsamplerConfig(),
        _ => new CnnFrontEndConfig(),
    };

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        manual_seed(0);
        _frontEnd = ConfigFor(FrontEnd).Create();
        ((nn.Module)_frontEnd).eval();
        _wave = randn(Batch, Seconds * 16_000).mul(Scalars.Of(0.1));
    }

    /// <summary>One forward of the front-end on [batch, 10 s].</summary>
    [Benchmark]
    public long Forward()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (features, _) = _frontEnd!.Forward(_wave!, null);
        return features.shape[1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _wave?.Dispose();
        (_frontEnd as IDisposable)?.Dispose();
    }
}
