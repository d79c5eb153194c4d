// DeviceCheck: does HArnESS compute the same numbers on this machine's accelerator as on the CPU, and how fast?
// Usage: DeviceCheck [--device cuda|cpu|auto] [--tf32|--no-tf32] [--libtorch DIR] [--allow-version-mismatch] [--seconds 10] [--out report.json]
using HArnESS.Tests.Targets;
using System.Diagnostics;
using System.Text.Json;
using HArnESS.Audio;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Features;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;

var info = HArnessRuntime.Initialize(new RuntimeOptions
{
    Device = ComputeDevice.Parse(Arg("--device", "auto")),
    LibTorchDirectory = args.Contains("--libtorch") ? Arg("--libtorch", "") : null,
    AllowLibTorchVersionMismatch = args.Contains("--allow-version-mismatch"),
    Seed = 7,
    AllowTf32 = args.Contains("--tf32") ? true : args.Contains("--no-tf32") ? false : null,
});
Console.WriteLine($"runtime: {info}");
var device = info.Device;
var seconds = int.Parse(Arg("--seconds", "10"), System.Globalization.CultureInfo.InvariantCulture);
var report = new Dictionary<string, object> { ["runtime"] = info.ToString(), ["device"] = device.ToString() };

// Real speech from the demo corpus, tiled to the requested length.
var wav = Directory.EnumerateFiles(Path.Combine(FindRepoRoot(), "data", "demo", "wav"), "*.wav", SearchOption.AllDirectories).Order().First();
var clip = WavReader.Read(wav).ToMono();
var samples = Enumerable.Range(0, (int)Math.Ceiling(16000.0 * seconds / clip.Frames)).SelectMany(_ => clip.Samples).Take(16000 * seconds).ToArray();
using var one = tensor(samples).unsqueeze(0);
using var eight = one.repeat(8, 1);
using var sampleCount = ((long)samples.Length).ToScalar();
using var lengths8 = full(8, sampleCount, dtype: int64);

// 1. Fbank parity and throughput.
var fbank = new Fbank(FbankOptions.Default80);
using (var cpuFeat = fbank.Compute(one.squeeze(0)))
using (var devFeat = fbank.Compute(one.squeeze(0).to(device)))
    report["fbank_max_abs_diff_vs_cpu"] = (devFeat.cpu() - cpuFeat).abs().max().item<float>();
report["fbank80_batch8_audio_seconds_per_second"] = 8 * seconds / Time(() =>
{
    using var scope = NewDisposeScope();
    var x = eight.to(device);
    fbank.Compute(x, lengths8.to(device));
});

// 2. Resampling 48 kHz → 16 kHz: parity and throughput.
using (var wave48 = AudioResample.Resample(eight, 16000, 48000))
{
    using (var cpuOut = AudioResample.Resample(wave48, 48000, 16000))
    using (var devOut = AudioResample.Resample(wave48.to(device), 48000, 16000))
        report["resample_max_abs_diff_vs_cpu"] = (devOut.cpu() - cpuOut).abs().max().item<float>();
    using var onDevice = wave48.to(device);
    report["resample48k_batch8_audio_seconds_per_second"] = 8 * seconds / Time(() => AudioResample.Resample(onDevice, 48000, 16000).Dispose());
}

// 3. Mini-batch k-means (HuBERT recipe settings, scaled): inertia and time on the device vs the CPU.
using (var features = SyntheticFeatures.Generate(seed: 3, rows: 50_000, dim: 39, components: 100))
{
    var options = new KMeansOptions { Clusters = 100, BatchSize = 5000, NInit = 3, Seed = 0 };
    foreach (var (name, target) in new[] { ("cpu", CPU), ("device", device) })
    {
        var sw = Stopwatch.StartNew();
        var fit = new MiniBatchKMeans(options, target).Fit(features);
        Sync();
        report[$"kmeans_50kx39_k100_{name}_seconds"] = sw.Elapsed.TotalSeconds;
        report[$"kmeans_50kx39_k100_{name}_inertia"] = fit.Inertia;
        fit.Codebook.Dispose();
    }
}

// 4. Encoder parity (HuBERT-base shape, seeded random weights) and throughput.
using var model = new SpeechEncoder(EncoderPresets.HubertBase);
model.eval();
using (no_grad())
{
    float[] cpuLast;
    using (var scope = NewDisposeScope())
        cpuLast = model.Forward(one).HiddenStates[^1].data<float>().ToArray();
    model.to(device);
    using (var scope = NewDisposeScope())
    {
        var devLast = model.Forward(one.to(device)).HiddenStates[^1].cpu();
        using var cpuT = tensor(cpuLast).reshape(devLast.shape);
        report["hubert_base_last_layer_max_abs_diff_vs_cpu"] = (devLast - cpuT).abs().max().item<float>();
    }
    var macs1 = model.CountMacs(samples.Length);
    foreach (var (name, input) in new[] { ("batch1", one), ("batch8", eight) })
    {
        var s = Time(() =>
        {
            using var scope = NewDisposeScope();
            model.Forward(input.to(device));
        });
        var batch = input.shape[0];
        report[$"hubert_base_{name}_real_time_factor"] = s / (batch * seconds);
        report[$"hubert_base_{name}_gflops"] = 2.0 * macs1 * batch / s / 1e9;
    }
}

var json = JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(json);
if (args.Contains("--out")) File.WriteAllText(Arg("--out", "device-check.json"), json);
return 0;

// Median wall time of a few runs after a warm-up, synchronising the GPU so its queue is counted.
double Time(Action action)
{
    action();
    Sync();
    var times = new List<double>();
    for (int i = 0; i < 5; i++)
    {
        var sw = Stopwatch.StartNew();
        action();
        Sync();
        times.Add(sw.Elapsed.TotalSeconds);
    }
    return times.Order().ElementAt(times.Count / 2);
}

void Sync()
{
    if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
}

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (Directory.Exists(Path.Combine(dir.FullName, "data", "demo"))) return dir.FullName;
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        if (Directory.Exists(Path.Combine(dir.FullName, "data", "demo"))) return dir.FullName;
    throw new DirectoryNotFoundException("data/demo not found above the app or the current folder.");
}
