using HArnESS.Runtime;
using NUnit.Framework;

namespace HArnESS.Tests;

/// <summary>Starts the native runtime once for the whole test assembly, before any TorchSharp call.</summary>
[SetUpFixture]
public sealed class NativeRuntimeSetup
{
    /// <summary>The state every test starts from (threads, dtype, device); <see cref="RuntimeState"/> restores it.</summary>
    internal static RuntimeInfo Started { get; private set; } = null!;

    [OneTimeSetUp]
    public void StartRuntime()
    {
        Started = HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Seed = 1234 });
        TestContext.Progress.WriteLine($"HArnESS runtime: {Started}");
    }
}
