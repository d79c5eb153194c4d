using TorchSharp;

namespace HArnESS.Runtime;

/// <summary>What the runtime looks like after <see cref="HArnessRuntime.Initialize(RuntimeOptions?)"/>.</summary>
/// <param name="Native">How libtorch was loaded (null on platforms where TorchSharp's own loader is used).</param>
/// <param name="Device">The default device models and tensors go to.</param>
/// <param name="Threads">libtorch's intra-op thread count.</param>
/// <param name="DefaultDType">The default floating dtype.</param>
/// <param name="Seed">The global seed, when one was set.</param>
public sealed record RuntimeInfo(NativeLoadReport? Native, torch.Device Device, int Threads, torch.ScalarType DefaultDType, long? Seed)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"libtorch {Native?.Backend.Version ?? "(TorchSharp default)"} from {Native?.Backend.Directory ?? "(TorchSharp default)"}" +
        (Native is { PatchedVersions.Count: > 0 } ? $" [patched: {string.Join(", ", Native.PatchedVersions)} weak]" : "") +
        $", device {Device}, {Threads} threads, {DefaultDType}" + (Seed is { } s ? $", seed {s}" : "");
}

/// <summary>
/// The one entry point that starts TorchSharp for HArnESS: loads libtorch on any Linux (patching TorchSharp's shim on
/// systems whose libstdc++ is too old), checks the libtorch version, and applies device, threads, dtype and seed.
/// Model builders call <see cref="EnsureInitialized"/> themselves, so an application only calls
/// <see cref="Initialize(RuntimeOptions?)"/> to choose options.
/// </summary>
public static class HArnessRuntime
{
    private static readonly Lock Gate = new();
    private static NativeLoadReport? _native;
    private static volatile bool _nativeDone;
    private static volatile RuntimeInfo? _current;

    /// <summary>The state after the last initialisation, or null before the first.</summary>
    public static RuntimeInfo? Current => _current;

    /// <summary>The default device (initialising with default options on first use).</summary>
    public static torch.Device Device => EnsureInitialized().Device;

    /// <summary>Initialises with default options unless already initialised; returns the current state.</summary>
    public static RuntimeInfo EnsureInitialized() => _current ?? Initialize();

    /// <summary>
    /// Starts the native runtime (once per process) and applies <paramref name="options"/> (every call).
    /// </summary>
    /// <exception cref="HArnessRuntimeException">libtorch cannot be found, loaded, or has the wrong version.</exception>
    /// <exception cref="HArnessConfigException">An option is invalid, or a second call names a different libtorch folder.</exception>
    public static RuntimeInfo Initialize(RuntimeOptions? options = null)
    {
        options ??= new RuntimeOptions();
        options.Validate();
        lock (Gate)
        {
            StartNative(options);

            var device = (options.Device ?? DeviceFromEnvironment()).Resolve();
            if (options.Threads is { } threads) torch.set_num_threads(threads);
            var dtype = options.DefaultDType ?? torch.ScalarType.Float32;
            torch.set_default_dtype(dtype);
            if (options.Seed is { } seed) SeedAll(seed);
            if (options.AllowTf32 is { } tf32)
            {
                torch.backends.cuda.matmul.allow_tf32 = tf32;
                torch.backends.cudnn.allow_tf32 = tf32;
            }
            _current = new RuntimeInfo(_native, device, torch.get_num_threads(), dtype, options.Seed);
            return _current;
        }
    }

    /// <summary>Seeds libtorch's CPU and CUDA generators so runs repeat.</summary>
    public static void SeedAll(long seed)
    {
        EnsureNative();
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }

    /// <summary>Loads the native libraries with default options if nothing has yet (no device/seed changes).</summary>
    public static void EnsureNative()
    {
        if (_nativeDone) return;
        lock (Gate) StartNative(new RuntimeOptions());
    }

    private static void StartNative(RuntimeOptions options)
    {
        if (_nativeDone)
        {
            if (options.LibTorchDirectory is { } wanted && _native is { } loaded
                && !Path.GetFullPath(wanted).TrimEnd('/').Equals(loaded.Backend.Directory.TrimEnd('/'), StringComparison.Ordinal))
                throw new HArnessConfigException(
                    $"libtorch is already loaded from '{loaded.Backend.Directory}'; it cannot be switched to '{wanted}' within one process.",
                    nameof(RuntimeOptions.LibTorchDirectory));
            return;
        }

        if (OperatingSystem.IsLinux())
        {
            var backend = LibTorchBackend.Locate(options.LibTorchDirectory);
            backend.EnsureMatchesTorchSharp(options.AllowLibTorchVersionMismatch);
            _native = NativeLoader.Load(backend, options.NativeCacheDirectory);
        }
        else if (options.LibTorchDirectory is not null)
        {
            throw new HArnessConfigException(
                "RuntimeOptions.LibTorchDirectory is supported on Linux only; elsewhere reference a libtorch backend package.",
                nameof(RuntimeOptions.LibTorchDirectory));
        }

        try
        {
            // TorchSharp's static initialiser loads the backend; with the libraries already in the process it finds them.
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is NotSupportedException or TypeInitializationException or DllNotFoundException)
        {
            throw new HArnessRuntimeException($"TorchSharp failed to start: {e.GetBaseException().Message}", _native?.Backend.Directory, e);
        }
        _nativeDone = true;
    }

    private static ComputeDevice DeviceFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(RuntimeOptions.DeviceVariable);
        return string.IsNullOrWhiteSpace(text) ? ComputeDevice.Auto : ComputeDevice.Parse(text);
    }
}
