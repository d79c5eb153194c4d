using BenchmarkDotNet.Running;
using HArnESS.Benchmarks;
using HArnESS.Runtime;

// ONNX deployment footprint (OnnxBenchmarks.cs): a report, not a BenchmarkDotNet run.
if (args.Length > 0 && args[0].StartsWith("onnx-footprint", StringComparison.Ordinal)) return OnnxFootprint.Report(args);

// Start libtorch before BenchmarkDotNet builds its runner processes (each child process starts its own too).
HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu });
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
