using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace HArnESS.Benchmarks;

/// <summary>For fits that take seconds (k-means, PCA): in-process (a generated child project does not find the
/// libtorch natives), Monitoring strategy, one warm-up and three measured runs.</summary>
public sealed class MonitoringInProcessConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public MonitoringInProcessConfig() =>
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(20), logOutput: true))
            .WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3));
}
