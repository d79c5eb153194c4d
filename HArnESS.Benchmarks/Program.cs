using BenchmarkDotNet.Running;
using HArnESS.Runtime;

// Start libtorch before BenchmarkDotNet builds its runner processes (each child process starts its own too).
HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu });
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
