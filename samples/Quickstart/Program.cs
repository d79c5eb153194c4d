// HArnESS quickstart: the pipeline so far, end to end, on the bundled demo corpus (data/demo).
//   runtime → corpus + loader → Fbank → iteration-1 targets (MFCC-39 → k-means) → teacher (load or build, save, reload)
//   → iteration-2 targets (teacher layer → PCA → k-means) → an Fbank-front-end student sized against the teacher.
// Usage: dotnet run --project samples/Quickstart -c Release -- [--corpus data/demo] [--out runs/quickstart]
//        [--teacher PATH (HF folder, .safetensors, .bin, fairseq .pt)] [--layer N] [--device auto|cpu|cuda[:N]]
//        [--runtime-only]
using System.Diagnostics;
using System.Globalization;
using HArnESS.Checkpoints;
using HArnESS.Data;
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
    Device = args.Contains("--device") ? ComputeDevice.Parse(Arg("--device", "auto")) : null,
    Seed = 1234,
});
Console.WriteLine($"HArnESS runtime: {info}");
if (args.Contains("--runtime-only"))
{
    using var check = arange(Scalars.Of(1), Scalars.Of(4), Scalars.One).sum();
    Console.WriteLine($"sum={check.item<long>()}");
    return 0;
}

var corpus = Path.GetFullPath(Arg("--corpus", FindDemoCorpus()));
var output = Path.GetFullPath(Arg("--out", Path.Combine("runs", "quickstart")));
var clock = Stopwatch.StartNew();
void Step(string text) => Console.WriteLine($"\n[{clock.Elapsed.TotalSeconds,6:F1}s] {text}");
// One line per finished dump shard and per finished stage (every report carries its units in Message).
var progress = new Progress<TargetProgress>(p =>
{
    if (p.Done == p.Total && p.Stage != TargetStage.KMeans || p.Message.StartsWith("kmeans: final", StringComparison.Ordinal) || p.Reused)
        Console.WriteLine($"         {p.Message}");
});

// 1. The corpus, streamed from disk in padded, length-bucketed batches.
Step($"Corpus {corpus}");
var manifest = Manifest.Load(Path.Combine(corpus, "train.tsv"));
var dataset = new AudioDataset(manifest, labels: [LabelFile.LoadBeside(manifest, "dia"), LabelFile.LoadBeside(manifest, "spk")]);
var loader = new AudioLoader(dataset, new AudioLoaderOptions { BatchSize = 8, Shuffle = true, Seed = 1 });
var fbank = new Fbank(FbankOptions.Default80);
int batches = 0;
long samples = 0;
foreach (var batch in loader)
{
    using var scope = NewDisposeScope();
    using (batch)
    {
        var (features, frames) = fbank.Compute(batch.Waveforms, batch.Lengths);
        if (batches == 0)
            Console.WriteLine($"         first batch: waveforms {Shape(batch.Waveforms)} → Fbank {Shape(features)}, frames {string.Join(",", frames.data<long>().ToArray())}");
        batches++;
        samples += batch.Lengths.sum().item<long>();
    }
}
Console.WriteLine($"         {manifest.Count} utterances, {samples / 16000.0:F1} s of speech in {batches} batches; " +
                  $"{dataset.Labels["dia"].Classes.Count} dialects, {dataset.Labels["spk"].Classes.Count} speakers");

// 2. Iteration 1 of the HuBERT recipe: MFCC + Δ + ΔΔ (39-d) → k-means → unit labels.
Step("Iteration-1 targets: MFCC-39 → k-means (K = 50)");
using (var iteration1 = await TargetGenerator.From(manifest).Mfcc39().KMeans(50, o => o with { Seed = 1 })
           .Into(Path.Combine(output, "iter1")).FitAsync(progress))
{
    Console.WriteLine($"         {iteration1.Fit.Rows} frames, mean inertia {iteration1.Fit.MeanInertia:F2}, labels → {iteration1.LabelPath}");
}

// 3. The teacher: a real checkpoint when given, else a small HuBERT-shaped encoder, saved and loaded back in HF layout.
SpeechEncoder teacher;
if (args.Contains("--teacher"))
{
    Step($"Teacher from {Arg("--teacher", "")}");
    teacher = SpeechEncoder.Load(Arg("--teacher", ""));
}
else
{
    Step("Teacher: no checkpoint given (--teacher PATH); building a small HuBERT-shaped encoder with random weights");
    using var built = SpeechEncoder.Create()
        .WithCnnFrontEnd(ConvStack.Wav2Vec2)
        .WithTransformer(layers: 4, dim: 256, heads: 4, ffn: 1024)
        .PostLayerNorm()
        .Build();
    var teacherDir = Path.Combine(output, "teacher");
    built.Save(teacherDir);
    teacher = SpeechEncoder.Load(teacherDir);
    Console.WriteLine($"         saved to {teacherDir} (model.safetensors + config.json) and loaded back");
}
teacher.to(HArnessRuntime.Device);
var layer = int.Parse(Arg("--layer", Math.Max(1, teacher.NumLayers * 3 / 4).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
Console.WriteLine($"         {teacher.NumLayers} layers × {teacher.HiddenSize}, {teacher.CountParameters():N0} parameters; using layer {layer}");

// 4. Iteration 2: teacher layer → PCA (HArnESS's compacted supervision) → k-means → unit labels.
Step($"Iteration-2 targets: teacher layer {layer} → PCA (95% of the variance) → k-means (K = 50)");
using (var iteration2 = await TargetGenerator.From(manifest).Layer(teacher, layer).Pca(0.95).KMeans(50, o => o with { Seed = 1 })
           .Into(Path.Combine(output, "iter2")).FitAsync(progress))
{
    Console.WriteLine($"         {iteration2.Fit.Rows} frames, {iteration2.Pca!.ComponentCount} of {teacher.HiddenSize} dims kept, " +
                      $"mean inertia {iteration2.Fit.MeanInertia:F2}, labels → {iteration2.LabelPath}");
}

// 5. A shallow, thin student with the Fbank front-end (Wang et al.), sized against the teacher on 10 s of audio.
Step("Student: Fbank front-end, 2 layers × 192");
using var student = SpeechEncoder.Create()
    .WithFbankFrontEnd(melBins: 80, stack: 2, projectionDim: 192)
    .WithTransformer(layers: 2, dim: 192, heads: 4, ffn: 768)
    .PostLayerNorm()
    .Build();
student.to(HArnessRuntime.Device);
const int tenSeconds = 160_000;
Console.WriteLine($"         teacher {teacher.CountParameters():N0} params, {teacher.CountMacs(tenSeconds) / 1e9:F1} GMAC per 10 s");
Console.WriteLine($"         student {student.CountParameters():N0} params, {student.CountMacs(tenSeconds) / 1e9:F1} GMAC per 10 s");
using (no_grad())
using (var scope = NewDisposeScope())
{
    student.eval();
    var first = loader.First();
    using (first)
    {
        var outputs = student.Forward(first.Waveforms.to(HArnessRuntime.Device), first.Lengths.to(HArnessRuntime.Device));
        Console.WriteLine($"         hidden states: {outputs.HiddenStates.Count} × {Shape(outputs.HiddenStates[^1])}");
    }
}
var studentDir = Path.Combine(output, "student");
student.Save(studentDir);
Console.WriteLine($"         saved to {studentDir}");
teacher.Dispose();

Step("Done.");
return 0;

static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

static string FindDemoCorpus()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "data", "demo", "train.tsv"))) return Path.Combine(dir.FullName, "data", "demo");
    throw new DirectoryNotFoundException("data/demo/train.tsv was not found above the current folder; pass --corpus DIR.");
}
