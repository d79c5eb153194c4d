using HArnESS.Runtime;
using TorchSharp;

namespace HArnESS.Tests;

/// <summary>
/// Puts the process-wide runtime state (threads, default dtype, device) back after a test changed it, so no test
/// depends on the order tests run in. <see cref="PreserveRandomState"/> does the same for the global CPU generator.
/// </summary>
internal static class RuntimeState
{
    /// <summary>The state a test should capture before changing anything.</summary>
    public static RuntimeInfo Capture() => HArnessRuntime.EnsureInitialized();

    /// <summary>Captures libtorch's default CPU generator state; disposing puts it back, as if the test had drawn nothing.</summary>
    public static IDisposable PreserveRandomState() => new RandomState(torch.random.get_rng_state());

    private sealed class RandomState(torch.Tensor saved) : IDisposable
    {
        public void Dispose()
        {
            torch.random.set_rng_state(saved);
            saved.Dispose();
        }
    }

    /// <summary>Re-applies <paramref name="before"/> (or the test assembly's start state when null).</summary>
    public static void Restore(RuntimeInfo? before)
    {
        before ??= NativeRuntimeSetup.Started;
        HArnessRuntime.Initialize(new RuntimeOptions
        {
            Device = before.Device.type == DeviceType.CUDA ? ComputeDevice.Cuda(before.Device.index) : ComputeDevice.Cpu,
            Threads = before.Threads,
            DefaultDType = before.DefaultDType,
        });
    }
}
