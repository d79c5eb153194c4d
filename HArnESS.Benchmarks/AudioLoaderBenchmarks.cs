using BenchmarkDotNet.Attributes;
using HArnESS.Data;

namespace HArnESS.Benchmarks;

/// <summary>
/// One epoch of the demo corpus's train split through <see cref="AudioLoader"/> (read from disk, pad, mask, tensors),
/// with and without a background reader. Audio per epoch is printed at setup, so seconds of audio per second =
/// that / the mean time. Reference side by side: <c>/usr/bin/python3 scripts/bench_loader_reference.py</c>
/// (the same batches with Python's wave module, numpy and torch).
/// </summary>
[MemoryDiagnoser]
public class AudioLoaderBenchmarks
{
    private AudioDataset _dataset = null!;

    /// <summary>Batches read ahead (0 = on the caller's thread).</summary>
    [Params(0, 2)]
    public int Prefetch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HArnESS.sln"))) dir = dir.Parent;
        var tsv = Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("HArnESS.sln not found"), "data", "demo", "train.tsv");
        _dataset = AudioDataset.Load(tsv, null, "emo");
        Console.WriteLine($"// epoch audio: {_dataset.Manifest.TotalSamples / 16000.0:0.0} s in {_dataset.Count} files");
    }

    [Benchmark]
    public long Epoch()
    {
        var loader = new AudioLoader(_dataset, new AudioLoaderOptions { BatchSize = 8, Prefetch = Prefetch, Seed = 1 });
        long samples = 0;
        foreach (var batch in loader)
        {
            using var _ = batch;
            samples += batch.LengthsArray.Sum();
        }
        return samples;
    }
}
