// HArnESS quickstart: the whole recipe on the bundled demo corpus (data/demo), on CPU (CUDA when present).
//   1. teacher: two iterations of masked pre-training (MFCC-39 k-means, then its own PCA-compacted layer k-means),
//      or --teacher PATH;
//   2. students HS, HST and an fbank-front-end student distilled from it (regression + discriminative loss,
//      initialised from the teacher), saved as model.safetensors + config.json;
//   3. size, MACs and real-time factor of every model with TorchSharp and, exported to ONNX (fp32, int8), with ONNX Runtime;
//   4. ASR, SER, DID, KWS and SV on every model, and KWS + SV multi-task vs single-task vs frozen;
//   5. one comparison table, report.json, PNG loss curves and comparison charts in the output folder.
// Usage: dotnet run --project samples/Quickstart -c Release -- [--corpus DIR] [--train TSV] [--valid TSV]
//        [--teacher PATH] [--device auto|cpu|cuda[:N]] [--steps N] [--out DIR] [--smoke] [--runtime-only]
using HArnESS.Runtime;
using HArnESS.Samples.Quickstart;
using TorchSharp;

var o = QuickstartOptions.Parse(args, Console.Error);
if (o is null) return 2;
var info = HArnessRuntime.Initialize(new RuntimeOptions { Device = o.Device, Seed = 1234 });
Console.WriteLine($"HArnESS runtime: {info}");
if (o.RuntimeOnly)
{
    using var check = torch.tensor(new long[] { 1, 2, 3 }).sum();
    Console.WriteLine($"sum={check.item<long>()}");
    return 0;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
try
{
    return QuickstartRun.Run(o, cts.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("Cancelled (Ctrl+C); a rerun with the same --out reuses the finished pre-training iterations.");
    return 130;
}
