using System.Diagnostics;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using HArnESS.Audio;
using HArnESS.Encoders;
using HArnESS.Export;
using HArnESS.Runtime;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using HArnESS.Tensors;
using TorchSharp;

namespace HArnESS.Benchmarks;

/// <summary>
/// The same student three ways on the CPU, from raw 16 kHz samples (10 s per utterance, batch 1 and 8): the
/// TorchSharp forward (eval, no_grad; the fbank student's Kaldi fbank included), ONNX Runtime on the fp32 export and
/// ONNX Runtime on the dynamic-int8 export (both with the fbank inside the graph). ONNX Runtime gets as many intra-op
/// threads as TorchSharp uses. Weights are seeded random (speed does not depend on them).
/// Run: <c>dotnet run -c Release --project HArnESS.Benchmarks -- --filter '*OnnxBenchmarks*'</c>
/// (<c>HARNESS_BENCH_MODELS=distilhubert</c> limits the models). The footprint (natives on disk, model files, peak
/// RSS of a process that runs one 10 s utterance) is <c>... -- onnx-footprint</c>, see <see cref="OnnxFootprint"/>.
/// </summary>
[Config(typeof(OnnxBenchmarkConfig))]
public class OnnxBenchmarks
{
    private SpeechEncoder? _model;
    private Tensor? _wave;
    private Tensor? _lengths;
    private InferenceSession? _session;
    private OrtValue? _ortWave;
    private OrtValue? _ortLengths;
    private string? _dir;
    private string[] _fetch = [];

    /// <summary>Student presets: DistilHuBERT (CNN) and the fbank student, or HARNESS_BENCH_MODELS.</summary>
    public static IEnumerable<string> Models() =>
        Environment.GetEnvironmentVariable("HARNESS_BENCH_MODELS") is { Length: > 0 } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["distilhubert", "fbank-student"];

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "distilhubert";

    [Params(1, 8)]
    public int Batch { get; set; } = 1;

    [Params("TorchSharp", "OrtFp32", "OrtInt8")]
    public string Engine { get; set; } = "TorchSharp";

    [GlobalSetup]
    public void Setup()
    {
        HArnessRuntime.EnsureInitialized();
        manual_seed(0);
        _model = new SpeechEncoder(EncoderForwardBenchmarks.ConfigFor(Model));
        _model.eval();
        var samples = EncoderForwardBenchmarks.Samples;
        _wave = randn(Batch, samples).mul(Scalars.Of(0.1));
        using var sampleCount = ((long)samples).ToScalar();
        _lengths = full(Batch, sampleCount, dtype: ScalarType.Int64);
        if (Engine == "TorchSharp") return;
        _dir = Directory.CreateTempSubdirectory("harness-onnx-bench").FullName;
        var export = OnnxExporter.Export(_model, Path.Combine(_dir, "m.onnx"), new OnnxExportOptions
        {
            OutputLayers = [_model.NumLayers],
            Quantization = Engine == "OrtInt8" ? OnnxQuantization.Int8Dynamic : OnnxQuantization.None,
        });
        using var so = new SessionOptions { IntraOpNumThreads = get_num_threads(), GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(export.ModelPath, so);
        _fetch = [$"hidden_state_{_model.NumLayers}"];
        _ortWave = OrtValue.CreateTensorValueFromMemory(_wave.data<float>().ToArray(), [Batch, samples]);
        _ortLengths = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat((long)samples, Batch).ToArray(), [Batch]);
    }

    [Benchmark]
    public long Forward()
    {
        if (_session is not null)
        {
            using var run = new RunOptions();
            using var results = _session.Run(run, ["waveforms", "lengths"], [_ortWave!, _ortLengths!], _fetch);
            return results[0].GetTensorTypeAndShape().Shape[1];
        }
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var output = _model!.Forward(_wave!, _lengths);
        return output.LastHiddenState.shape[1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ortWave?.Dispose();
        _ortLengths?.Dispose();
        _session?.Dispose();
        _wave?.Dispose();
        _lengths?.Dispose();
        _model?.Dispose();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>In-process, 1 warm-up and 3 measured single invocations per case (each is hundreds of ms to seconds).</summary>
public sealed class OnnxBenchmarkConfig : ManualConfig
{
    public OnnxBenchmarkConfig()
    {
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)).WithLaunchCount(1).WithWarmupCount(1)
            .WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.RealTimeFactor));
    }
}

/// <summary>
/// Deployment footprint of each runtime for one student: bytes on disk of the linux-x64 natives an app ships
/// (libtorch + LibTorchSharp vs libonnxruntime), the model file(s), and the peak resident memory (VmHWM) of a fresh
/// process that loads the model and encodes one 10 s utterance: for TorchSharp this benchmark binary
/// (<c>onnx-footprint-torch</c>), for ONNX Runtime the samples/OnnxInference app, which references HArnESS.Inference
/// only. Also prints the int8 export's hidden-state cosine to the fp32 export (random weights).
/// </summary>
public static class OnnxFootprint
{
    /// <summary>Runs the footprint report (<c>onnx-footprint [model]</c>) or its TorchSharp child (<c>onnx-footprint-torch model</c>).</summary>
    public static int Report(string[] args)
    {
        var model = args.Length > 1 ? args[1] : "distilhubert";
        if (args[0] == "onnx-footprint-torch") return TorchChild(model);

        HArnessRuntime.EnsureInitialized();
        manual_seed(0);
        using var encoder = new SpeechEncoder(EncoderForwardBenchmarks.ConfigFor(model));
        encoder.eval();
        var dir = Directory.CreateTempSubdirectory("harness-onnx-footprint").FullName;
        try
        {
            var fp32 = OnnxExporter.Export(encoder, Path.Combine(dir, "fp32.onnx"));
            var int8 = OnnxExporter.Export(encoder, Path.Combine(dir, "int8.onnx"), new OnnxExportOptions { Quantization = OnnxQuantization.Int8Dynamic });
            var wav = Path.Combine(dir, "ten-seconds.wav");
            using (var w = randn(EncoderForwardBenchmarks.Samples).mul(Scalars.Of(0.1)))
                WavWriter.Write(wav, new AudioClip(w.data<float>().ToArray(), 16000), WavSampleFormat.Float32);

            var here = AppContext.BaseDirectory;
            var torchNatives = NativeBytes(Path.Combine(here, "runtimes", "linux-x64", "native"), "torch", "c10", "gomp", "LibTorchSharp", "shm");
            var sample = FindSample();
            var ortNatives = sample is null ? 0 : NativeBytes(Path.Combine(Path.GetDirectoryName(sample)!, "runtimes", "linux-x64", "native"), "onnxruntime");
            var weights = encoder.parameters().Sum(p => p.numel()) * 4;
            Console.WriteLine($"model: {model}, {encoder.CountParameters():N0} parameters");
            Console.WriteLine($"TorchSharp : natives {Mb(torchNatives)}, weights (fp32) {Mb(weights)}, peak RSS {Child(Environment.ProcessPath!, [typeof(OnnxFootprint).Assembly.Location, "onnx-footprint-torch", model])}");
            if (sample is null) Console.WriteLine("ORT: build samples/OnnxInference (Release) first to measure it.");
            else
            {
                Console.WriteLine($"ORT fp32   : natives {Mb(ortNatives)}, model {Mb(fp32.ModelBytes)}, peak RSS {Child("dotnet", [sample, fp32.ModelPath, wav])}");
                Console.WriteLine($"ORT int8   : natives {Mb(ortNatives)}, model {Mb(int8.ModelBytes)}, peak RSS {Child("dotnet", [sample, int8.ModelPath, wav])}");
            }
            Console.WriteLine($"int8 vs fp32 hidden states: {Cosine(fp32.ModelPath, int8.ModelPath, encoder.NumLayers)}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    private static int TorchChild(string model)
    {
        HArnessRuntime.EnsureInitialized();
        using var encoder = new SpeechEncoder(EncoderForwardBenchmarks.ConfigFor(model));
        encoder.eval();
        using var _ = no_grad();
        using var wave = randn(1, EncoderForwardBenchmarks.Samples).mul(Scalars.Of(0.1));
        using var o = encoder.Forward(wave);
        Console.WriteLine($"frames {o.LastHiddenState.shape[1]}");
        Console.WriteLine("peak RSS: " + File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))["VmHWM:".Length..].Trim());
        return 0;
    }

    private static string Child(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var m = Regex.Match(output, @"peak RSS: (\d+) kB");
        return m.Success ? Mb(long.Parse(m.Groups[1].Value) * 1024) : $"(not measured: {output} {p.StandardError.ReadToEnd()})";
    }

    private static string? FindSample()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var p = Path.Combine(d.FullName, "samples", "OnnxInference", "bin", "Release", "net10.0", "OnnxInference.dll");
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static long NativeBytes(string folder, params string[] prefixes) =>
        !Directory.Exists(folder) ? 0 : Directory.GetFiles(folder)
            .Where(f => prefixes.Any(p => Path.GetFileName(f).StartsWith("lib" + p, StringComparison.Ordinal)))
            .Sum(f => new FileInfo(f).Length);

    private static string Mb(long bytes) => $"{bytes / 1048576.0:F1} MiB";

    private static string Cosine(string fp32, string int8, int layers)
    {
        var rng = new Random(1);
        var wave = new float[2 * EncoderForwardBenchmarks.Samples];
        for (var i = 0; i < wave.Length; i++) wave[i] = (float)(0.1 * (rng.NextDouble() * 2 - 1) + 0.3 * Math.Sin(i * 0.07));
        using var a = new InferenceSession(fp32);
        using var b = new InferenceSession(int8);
        using var x = OrtValue.CreateTensorValueFromMemory(wave, [2, EncoderForwardBenchmarks.Samples]);
        using var l = OrtValue.CreateTensorValueFromMemory(new long[] { EncoderForwardBenchmarks.Samples, EncoderForwardBenchmarks.Samples }, [2]);
        var names = Enumerable.Range(0, layers + 1).Select(i => $"hidden_state_{i}").ToArray();
        using var ra = a.Run(new RunOptions(), ["waveforms", "lengths"], [x, l], names);
        using var rb = b.Run(new RunOptions(), ["waveforms", "lengths"], [x, l], names);
        var parts = new List<string>();
        for (var i = 0; i <= layers; i++)
        {
            var shape = ra[i].GetTensorTypeAndShape().Shape;
            var d = (int)shape[2];
            var va = ra[i].GetTensorDataAsSpan<float>();
            var vb = rb[i].GetTensorDataAsSpan<float>();
            double sum = 0, min = 1;
            var n = va.Length / d;
            for (var f = 0; f < n; f++)
            {
                double dot = 0, na = 0, nb = 0;
                for (var k = 0; k < d; k++)
                {
                    dot += va[f * d + k] * vb[f * d + k];
                    na += va[f * d + k] * va[f * d + k];
                    nb += vb[f * d + k] * vb[f * d + k];
                }
                var c = dot / Math.Sqrt(na * nb);
                sum += c;
                min = Math.Min(min, c);
            }
            parts.Add($"layer {i}: mean cosine {sum / n:F5} (min {min:F5})");
        }
        return string.Join("; ", parts);
    }
}
