using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Running;
using HArnESS.Benchmarks;
using HArnESS.Runtime;

// ONNX deployment footprint (OnnxBenchmarks.cs): a report, not a BenchmarkDotNet run.
if (args.Length > 0 && args[0].StartsWith("onnx-footprint", StringComparison.Ordinal)) return OnnxFootprint.Report(args);

// `--group quick` (or any name in BenchmarkGroups) becomes the matching `--filter` patterns.
args = BenchmarkGroups.Expand(args);

// Start libtorch before BenchmarkDotNet builds its runner processes (each child process starts its own too).
HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu });
// Every run writes the full JSON report (read by scripts/bench/run.py) and a GitHub-markdown table.
var config = DefaultConfig.Instance.AddExporter(JsonExporter.Full, MarkdownExporter.GitHub);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
