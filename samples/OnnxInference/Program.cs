// Runs a student exported by HArnESS.Export (OnnxExporter.Export) on a 16 kHz WAV with ONNX Runtime only and prints
// what its heads say: the CTC transcript, the emotion (or any class) label with scores, the speaker embedding size.
//
//   dotnet run --project samples/OnnxInference -c Release -- student.onnx speech.wav
//
// student.json (the sidecar) must sit beside student.onnx.
using System.Diagnostics;
using System.Globalization;
using HArnESS.Inference;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: OnnxInference <model.onnx> <audio.wav>");
    return 2;
}
try
{
    var clock = Stopwatch.StartNew();
    using var model = SpeechModel.Load(args[0]);
    var loadMs = clock.Elapsed.TotalMilliseconds;
    clock.Restart();
    var output = model.RunWav(args[1]);
    var runMs = clock.Elapsed.TotalMilliseconds;
    var inv = CultureInfo.InvariantCulture;
    Console.WriteLine(string.Create(inv, $"model: {Path.GetFileName(args[0])} ({new FileInfo(args[0]).Length / 1024.0:0.#} KiB, {model.Info.Quantization}), loaded in {loadMs:0} ms"));
    Console.WriteLine(string.Create(inv, $"frames: {output.FrameLengths[0]} at {model.Info.FrameRateHz:0.#} Hz, ran in {runMs:0.#} ms"));
    foreach (var (layer, h) in output.HiddenStates.OrderBy(p => p.Key))
        Console.WriteLine($"hidden state {layer}: [{h.Batch}, {h.Frames}, {h.Dim}]");
    if (output.Transcripts is { } texts) Console.WriteLine($"transcript: \"{texts[0]}\"");
    if (output.Classifications is { } classes)
    {
        var c = classes[0];
        var labels = model.Info.Heads.First(h => h.Kind == "Classification").Labels;
        var scores = string.Join(", ", c.Scores.Select((s, i) => string.Create(inv, $"{labels?[i] ?? i.ToString(inv)} {s:0.000}")));
        Console.WriteLine($"label: {c.Label} ({scores})");
    }
    if (output.Embeddings is { } embeddings) Console.WriteLine($"speaker embedding: {embeddings[0].Length} values");
    // Peak resident memory of this process (Linux), for the deployment footprint.
    if (File.Exists("/proc/self/status"))
    {
        var hwm = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        if (hwm is not null) Console.WriteLine($"peak RSS: {hwm["VmHWM:".Length..].Trim()}");
    }
    return 0;
}
catch (HArnessInferenceException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
