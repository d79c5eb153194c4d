using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Runtime;
using HArnESS.Serialization;
using static TorchSharp.torch;

namespace HArnESS.Benchmarks;

/// <summary>
/// Reading and writing a HuBERT-base checkpoint (94.4 M float32 parameters, ≈ 378 MB): the raw safetensors read
/// (memory-mapped, every tensor copied into a new tensor), <c>SpeechEncoder.Load</c> of the saved HF-style folder
/// (read + config + key check + copy into the model) and <c>Save</c>. The folder is written once in a temp
/// directory by the setup. Reference: <c>/usr/bin/python3 scripts/bench/checkpoint_reference.py</c> times
/// <c>torch.load</c> / <c>torch.save</c> of the same state dict and a numpy-mmap safetensors read.
/// Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --filter '*CheckpointLoad*'</c>.
/// </summary>
[Config(typeof(CheckpointLoadConfig))]
public class CheckpointLoadBenchmarks
{
    private string _dir = "";
    private SpeechEncoder? _model;

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        _dir = Path.Combine(Path.GetTempPath(), $"harness_bench_ckpt_{Environment.ProcessId}");
        _model = new SpeechEncoder(EncoderPresets.HubertBase);
        _model.Save(_dir);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model?.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Benchmark]
    public long ReadSafetensors()
    {
        var tensors = SafeTensors.Load(Path.Combine(_dir, SpeechEncoderCheckpoint.WeightsFileName));
        long n = tensors.Values.Sum(t => t.numel());
        foreach (var t in tensors.Values) t.Dispose();
        return n;
    }

    [Benchmark]
    public int LoadEncoder()
    {
        using var model = SpeechEncoder.Load(_dir);
        return model.NumLayers;
    }

    [Benchmark]
    public void SaveEncoder() => _model!.Save(_dir);
}

/// <summary>One in-process job, few iterations: each operation moves hundreds of megabytes.</summary>
public sealed class CheckpointLoadConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public CheckpointLoadConfig() =>
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(1)
            .WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
}
