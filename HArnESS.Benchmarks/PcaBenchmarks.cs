using BenchmarkDotNet.Attributes;
using HArnESS.Distillation.Targets;
using HArnESS.Runtime;
using static TorchSharp.torch;

namespace HArnESS.Benchmarks;

/// <summary>
/// One <see cref="Pca"/> fit (mean + float64 covariance in one pass, then the eigendecomposition) keeping 256 of 768
/// dimensions on 20,000 rows: the size of a teacher-layer PCA before k-means, in memory and streamed from 4,096-row
/// chunks, on one libtorch thread. The matrix is integer arithmetic only, so it is bit-identical in the reference:
/// <c>OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench/pca_reference.py</c> (sklearn 1.2
/// <c>PCA(n_components=256, svd_solver="full")</c>). The retained variance of each fit is printed.
/// Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --group pca</c>.
/// </summary>
[Config(typeof(MonitoringInProcessConfig))]
public class PcaBenchmarks
{
    /// <summary>Rows, dimensions and kept components (must match scripts/bench/pca_reference.py).</summary>
    public const int Rows = 20_000, Dim = 768, Components = 256;

    private Tensor _x = null!;

    /// <summary>x[i, d] = ((i·7919 + d·104729) mod 1000) / 1000 − 0.5 + ((i mod 97) − 48) · ((d·31 mod 17) − 8) / 400.</summary>
    public static float[] Matrix()
    {
        var x = new float[Rows * Dim];
        for (long i = 0; i < Rows; i++)
            for (long d = 0; d < Dim; d++)
                x[i * Dim + d] = (float)((i * 7919 + d * 104729) % 1000 / 1000.0 - 0.5 + (i % 97 - 48) * (d * 31 % 17 - 8) / 400.0);
        return x;
    }

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Threads = 1 });
        _x = tensor(Matrix(), [Rows, Dim]);
    }

    [GlobalCleanup]
    public void Cleanup() => _x.Dispose();

    /// <summary>Fit on the in-memory matrix.</summary>
    [Benchmark(Baseline = true)]
    public double InMemory() => Report("in-memory", Pca.Fit(_x, new PcaOptions { Components = Components }, CPU));

    /// <summary>Fit streamed from 4,096-row chunks.</summary>
    [Benchmark]
    public double Streamed() => Report("streamed", Pca.Fit(new TensorFeatureSource(_x, chunkRows: 4_096), new PcaOptions { Components = Components }, CPU));

    private static double Report(string what, Pca pca)
    {
        using var _ = pca;
        Console.WriteLine($"// {what}: retained variance {pca.RetainedVarianceRatio:F6}");
        return pca.RetainedVarianceRatio;
    }
}
