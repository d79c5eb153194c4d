using HArnESS.Tests.Targets;
using BenchmarkDotNet.Attributes;
using HArnESS.Distillation.Targets;
using HArnESS.Runtime;
using TorchSharp;

namespace HArnESS.Benchmarks;

/// <summary>
/// One mini-batch k-means fit with the HuBERT recipe's settings (k-means++, n_init 20, max_iter 100, tol 0,
/// max_no_improvement 100, reassignment 0; batch scaled to the corpus) on 50,000 × 39 seeded synthetic features,
/// in memory and streamed from 8,192-row chunks. The inertia of each fit is printed. Both sides run on one thread
/// (libtorch intra-op threads here, OpenMP/BLAS there): many small ops per step make multi-threaded timings swing by
/// 100× on a shared machine. Reference side by side:
/// <c>OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench/kmeans_reference.py 3</c>
/// (sklearn 1.2.1 MiniBatchKMeans on the bit-identical data). The device is the CPU unless the runtime's device
/// variable (<see cref="RuntimeOptions.DeviceVariable"/>, e.g. <c>cuda</c>) names another. Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --filter *KMeans*</c>.
/// </summary>
[Config(typeof(MonitoringInProcessConfig))]
public class KMeansBenchmarks
{
    // must match scripts/bench/kmeans_reference.py
    private const ulong Seed = 424242;
    private const int Rows = 50_000, Dim = 39, Components = 64, K = 100, Batch = 5_000;

    private torch.Tensor _x = null!;
    private torch.Device _device = torch.CPU;
    private readonly KMeansOptions _options = new() { Clusters = K, BatchSize = Batch, Seed = 0 };

    [GlobalSetup]
    public void Setup()
    {
        var fromEnv = Environment.GetEnvironmentVariable(RuntimeOptions.DeviceVariable);
        var info = HArnessRuntime.Initialize(new RuntimeOptions
        {
            Device = string.IsNullOrWhiteSpace(fromEnv) ? ComputeDevice.Cpu : ComputeDevice.Parse(fromEnv),
            Threads = 1,
        });
        _device = info.Device;
        Console.WriteLine($"// k-means device: {_device}");
        using var x = SyntheticFeatures.Generate(Seed, Rows, Dim, Components, spread: 1.0);
        _x = x.to(_device);
    }

    [GlobalCleanup]
    public void Cleanup() => _x.Dispose();

    [Benchmark(Baseline = true)]
    public double InMemory() => Report("in-memory", new MiniBatchKMeans(_options, _device).Fit(_x));

    [Benchmark]
    public double Streamed() => Report("streamed", new MiniBatchKMeans(_options, _device).Fit(new TensorFeatureSource(_x, chunkRows: 8_192)));

    private static double Report(string what, KMeansFit fit)
    {
        using var _ = fit.Codebook;
        Console.WriteLine($"// {what}: inertia {fit.Inertia:F1}, steps {fit.Steps}");
        return fit.Inertia;
    }
}
