using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace HArnESS.Runtime;

/// <summary>
/// How <see cref="HArnessRuntime.Initialize(RuntimeOptions?)"/> starts TorchSharp. Every property has a working default;
/// environment variables fill what the options leave empty.
/// </summary>
public sealed record RuntimeOptions
{
    /// <summary>Environment variable naming a libtorch <c>lib</c> folder (e.g. a PyTorch install's <c>torch/lib</c>).</summary>
    public const string LibTorchDirectoryVariable = "HARNESS_LIBTORCH_DIR";

    /// <summary>Environment variable naming the folder where patched native libraries are cached.</summary>
    public const string NativeCacheDirectoryVariable = "HARNESS_NATIVE_CACHE";

    /// <summary>Environment variable with a device (<c>auto</c>, <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>).</summary>
    public const string DeviceVariable = "HARNESS_DEVICE";

    /// <summary>
    /// Folder holding libtorch's shared libraries (<c>libc10.so</c>, <c>libtorch_cpu.so</c>, <c>libtorch.so</c>, and the
    /// CUDA ones for a GPU build). Null: <see cref="LibTorchDirectoryVariable"/>, then the app's own backend package.
    /// </summary>
    public string? LibTorchDirectory { get; init; }

    /// <summary>Folder for the patched copy of <c>libLibTorchSharp.so</c>. Null: <see cref="NativeCacheDirectoryVariable"/>, then <c>~/.cache/harness/native</c>.</summary>
    public string? NativeCacheDirectory { get; init; }

    /// <summary>The device models and tensors go to by default. Null: <see cref="DeviceVariable"/>, then Auto.</summary>
    public ComputeDevice? Device { get; init; }

    /// <summary>Intra-op CPU threads for libtorch; null leaves libtorch's default.</summary>
    public int? Threads { get; init; }

    /// <summary>Default floating dtype for new tensors; null leaves float32.</summary>
    public torch.ScalarType? DefaultDType { get; init; }

    /// <summary>Global seed for libtorch's CPU and CUDA generators; null leaves them unseeded.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// TF32 tensor-core math for CUDA matmuls and convolutions: faster on Ampere and later GPUs, about 1e-3 relative
    /// error. Null leaves libtorch's defaults (cuDNN convolutions on, cuBLAS matmuls off); false gives float32 parity with the CPU.
    /// </summary>
    public bool? AllowTf32 { get; init; }

    /// <summary>Start even when the libtorch found is not the version TorchSharp was built against (not recommended).</summary>
    public bool AllowLibTorchVersionMismatch { get; init; }

    /// <summary>
    /// Whether libtorch may come from the NuGet global packages folder when the app carries none (see
    /// <see cref="LibTorchSource.NuGetCache"/>). True (the default) keeps notebooks and scripts working and logs a
    /// warning; false makes a missing backend package fail at start, as it will where the app is deployed.
    /// </summary>
    public bool AllowNuGetCache { get; init; } = true;

    /// <summary>
    /// Receives the start-up events: where libtorch came from (a warning when it is the NuGet cache), the native patch
    /// applied to TorchSharp's shim, the device, threads and dtype. Default <see cref="NullLoggerFactory.Instance"/>.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every option and reports all failures at once.</summary>
    /// <exception cref="HArnessValidationException">One or more options are invalid; <see cref="HArnessValidationException.Errors"/> names each.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        errors.Require(Threads is null or >= 1, nameof(Threads), $"RuntimeOptions.Threads must be at least 1, got {Threads}.");
        errors.Require(DefaultDType is null or torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Float32 or torch.ScalarType.Float64,
            nameof(DefaultDType), $"RuntimeOptions.DefaultDType must be a floating type (Float16, BFloat16, Float32, Float64), got {DefaultDType}.");
        errors.Require(Device is not { Kind: ComputeDeviceKind.Cuda, Index: < 0 }, nameof(Device),
            $"RuntimeOptions.Device must have a CUDA index of 0 or more, got {Device?.Index}.");
        errors.Require(LibTorchDirectory is null || !string.IsNullOrWhiteSpace(LibTorchDirectory) && LibTorchDirectory.IndexOf('\0') < 0,
            nameof(LibTorchDirectory), $"RuntimeOptions.LibTorchDirectory must be a folder path or null, got '{LibTorchDirectory}'.");
        errors.Require(NativeCacheDirectory is null || !string.IsNullOrWhiteSpace(NativeCacheDirectory) && NativeCacheDirectory.IndexOf('\0') < 0,
            nameof(NativeCacheDirectory), $"RuntimeOptions.NativeCacheDirectory must be a folder path or null, got '{NativeCacheDirectory}'.");
        errors.Require(LoggerFactory is not null, nameof(LoggerFactory), "RuntimeOptions.LoggerFactory must not be null (use NullLoggerFactory.Instance).");
        errors.ThrowIfAny(nameof(RuntimeOptions));
    }
}
