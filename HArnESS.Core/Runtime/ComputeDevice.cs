using TorchSharp;

namespace HArnESS.Runtime;

/// <summary>Which kind of device a run asks for.</summary>
public enum ComputeDeviceKind
{
    /// <summary>CUDA when TorchSharp reports it available, else CPU.</summary>
    Auto,
    /// <summary>The CPU.</summary>
    Cpu,
    /// <summary>A CUDA GPU (see <see cref="ComputeDevice.Index"/>).</summary>
    Cuda,
}

/// <summary>A device request: CPU, a CUDA GPU by index, or Auto.</summary>
/// <param name="Kind">The kind of device.</param>
/// <param name="Index">The CUDA device index (ignored for CPU and Auto).</param>
public readonly record struct ComputeDevice(ComputeDeviceKind Kind, int Index = 0)
{
    /// <summary>CUDA when available, else CPU.</summary>
    public static ComputeDevice Auto => new(ComputeDeviceKind.Auto);

    /// <summary>The CPU.</summary>
    public static ComputeDevice Cpu => new(ComputeDeviceKind.Cpu);

    /// <summary>The CUDA GPU with the given index.</summary>
    public static ComputeDevice Cuda(int index = 0) => new(ComputeDeviceKind.Cuda, index);

    /// <summary>Parses <c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive).</summary>
    /// <exception cref="HArnessConfigException">The text is none of those.</exception>
    public static ComputeDevice Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "auto") return Auto;
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda();
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t[5..], out var i) && i >= 0) return Cuda(i);
        throw new HArnessConfigException($"Device '{text}' is not one of auto, cpu, cuda, cuda:N.", "device");
    }

    /// <summary>Resolves the request to a TorchSharp device (Auto becomes cuda:0 or cpu).</summary>
    /// <exception cref="HArnessConfigException">CUDA was requested but is not available, or the index is out of range.</exception>
    public torch.Device Resolve()
    {
        switch (Kind)
        {
            case ComputeDeviceKind.Cpu:
                return torch.CPU;
            case ComputeDeviceKind.Auto:
                return torch.cuda.is_available() ? new torch.Device(DeviceType.CUDA, 0) : torch.CPU;
            default:
                if (!torch.cuda.is_available())
                    throw new HArnessConfigException(
                        "Device cuda was requested but TorchSharp reports no CUDA device: the loaded libtorch is a CPU build " +
                        "or no GPU/driver is visible. Point RuntimeOptions.LibTorchDirectory (or HARNESS_LIBTORCH_DIR) at a CUDA libtorch 'lib' folder.",
                        "device");
                int count = torch.cuda.device_count();
                if (Index < 0 || Index >= count)
                    throw new HArnessConfigException($"Device cuda:{Index} was requested but only {count} CUDA device(s) exist.", "device");
                return new torch.Device(DeviceType.CUDA, Index);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        ComputeDeviceKind.Cuda => $"cuda:{Index}",
        ComputeDeviceKind.Cpu => "cpu",
        _ => "auto",
    };
}
