using HArnESS.Runtime;
using NUnit.Framework;

namespace HArnESS.Tests;

/// <summary>Starts the native runtime once for the whole test assembly, before any TorchSharp call.</summary>
[SetUpFixture]
public sealed class NativeRuntimeSetup
{
    [OneTimeSetUp]
    public void StartRuntime()
    {
        var info = HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Seed = 1234 });
        TestContext.Progress.WriteLine($"HArnESS runtime: {info}");
    }
}
