// The accuracy cost of int8 (issue 14): trains one Linear head per demo task (ASR/CTC, SER, DID, KWS, SV) on a
// student's frozen fp32 TorchSharp features, exports student + heads to ONNX fp32 and int8, runs both with
// HArnESS.Inference on the test split and prints each task's metric fp32 vs int8 and every hidden state's cosine
// (see Int8Accuracy). The int8 model it leaves in --out runs in samples/OnnxInference as it is.
//
//   dotnet run --project samples/OnnxAccuracy -c Release -- [--corpus data/demo] [--out runs/onnx-accuracy]
//       [--preset tiny-fbank | --student DIR (a SpeechEncoder.Save folder)] [--layer N] [--steps 300] [--seed 1]
//       [--markdown FILE]
//
// --preset builds a randomly initialised student (torch seed --seed): the heads then read random features, which
// measures what int8 does to a model's numbers, not what a distilled student can do.
using System.Globalization;
using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Runtime;
using HArnESS.Samples.OnnxAccuracy;
using HArnESS.Serialization;
using TorchSharp;

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
int IntArg(string name, int fallback) => Arg(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Seed = 1 });
var corpus = Arg("--corpus") ?? FindDemoCorpus();
var output = Arg("--out") ?? Path.Combine("runs", "onnx-accuracy");
var seed = IntArg("--seed", 1);
SpeechEncoder encoder;
string label;
if (Arg("--student") is { } folder)
{
    encoder = SpeechEncoder.Load(folder);
    label = $"{Path.GetFileName(Path.GetFullPath(folder))} (loaded)";
}
else
{
    var preset = Arg("--preset") ?? "tiny-fbank";
    torch.manual_seed(seed);
    encoder = new SpeechEncoder(EncoderPresets.Get(preset));
    label = $"{preset}, random init (seed {seed})";
}
using (encoder)
{
    var options = new Int8AccuracyOptions
    {
        CorpusDirectory = corpus, OutputDirectory = output, Layer = Arg("--layer") is { } l ? int.Parse(l, CultureInfo.InvariantCulture) : null,
        Steps = IntArg("--steps", 300), AsrSteps = IntArg("--steps", 300), Seed = seed,
    };
    var report = Int8Accuracy.Run(label, encoder, options);
    var markdown = report.ToMarkdown();
    Console.WriteLine(markdown);
    Console.WriteLine($"int8 model (runs in samples/OnnxInference): {report.Int8ModelPath}");
    if (Arg("--markdown") is { } md) AtomicFile.WriteAllText(md, markdown);
}
return 0;

static string FindDemoCorpus()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "data", "demo", "train.tsv"))) return Path.Combine(d.FullName, "data", "demo");
    return Path.Combine("data", "demo");
}
