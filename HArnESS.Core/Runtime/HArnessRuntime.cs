using Microsoft.Extensions.Logging;
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
    /// <summary>Where libtorch came from (null where TorchSharp's own loader is used, off Linux). A built app should
    /// see <see cref="Runtime.LibTorchSource.AppPackage"/>; <see cref="Runtime.LibTorchSource.NuGetCache"/> means it
    /// carries no backend package and will fail where it is deployed.</summary>
    public LibTorchSource? LibTorchSource => Native?.Backend.Source;

    /// <inheritdoc/>
    public override string ToString() =>
        $"libtorch {Native?.Backend.Version ?? "(TorchSharp default)"} from {Native?.Backend.Directory ?? "(TorchSharp default)"}" +
        (Native is { } n ? $" ({n.Backend.Source})" : "") +
        (Native is { PatchedVersions.Count: > 0 } ? $" [patched: {string.Join(", ", Native.PatchedVersions)} weak]" : "") +
        (Native is { PatchedAtBuild.Count: > 0 } ? $" [patched at build: {string.Join(", ", Native.PatchedAtBuild)} weak]" : "") +
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
        var log = options.LoggerFactory.CreateLogger(typeof(HArnessRuntime).FullName!);
        lock (Gate)
        {
            StartNative(options, log);

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
            LogState(log, _current);
            return _current;
        }
    }

    /// <summary>Logs the state after a start: a warning when libtorch came from the NuGet cache, then the state itself.</summary>
    internal static void LogState(ILogger log, RuntimeInfo info)
    {
        if (info.Native is { Backend.Source: LibTorchSource.NuGetCache } cached)
            log.LogWarning("libtorch {Version} comes from the NuGet cache ('{Directory}'): this application references no libtorch " +
                "backend package and will fail where that cache is absent. Add <PackageReference Include=\"libtorch-cpu-linux-x64\" " +
                "Version=\"{Expected}\" /> (or a CUDA backend); set RuntimeOptions.AllowNuGetCache = false to make this an error.",
                cached.Backend.Version, cached.Backend.Directory, LibTorchBackend.ExpectedVersion);
        log.LogInformation("HArnESS runtime: {Runtime}", info);
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
        lock (Gate) StartNative(new RuntimeOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    private static void StartNative(RuntimeOptions options, ILogger log)
    {
        if (_nativeDone)
        {
            if (!options.AllowNuGetCache && _native is { Backend.Source: LibTorchSource.NuGetCache } cached)
                throw new HArnessConfigException(
                    $"libtorch is already loaded from the NuGet cache ('{cached.Backend.Directory}') by an earlier start in this process, so " +
                    "RuntimeOptions.AllowNuGetCache = false cannot be honoured. Reference libtorch-cpu-linux-x64 from the application.",
                    nameof(RuntimeOptions.AllowNuGetCache));
            if (options.LibTorchDirectory is { } wanted && _native is { } loaded
                && !Path.GetFullPath(wanted).TrimEnd('/').Equals(loaded.Backend.Directory.TrimEnd('/'), StringComparison.Ordinal))
                throw new HArnessConfigException(
                    $"libtorch is already loaded from '{loaded.Backend.Directory}'; it cannot be switched to '{wanted}' within one process.",
                    nameof(RuntimeOptions.LibTorchDirectory));
            return;
        }

        if (OperatingSystem.IsLinux())
        {
            var backend = LibTorchBackend.Locate(options.LibTorchDirectory, options.AllowNuGetCache);
            backend.EnsureMatchesTorchSharp(options.AllowLibTorchVersionMismatch);
            log.LogInformation("libtorch {Version} found in '{Directory}' ({Source}; version from {VersionSource})",
                backend.Version ?? "(unknown version)", backend.Directory, backend.Source, backend.VersionSource);
            _native = NativeLoader.Load(backend, options.NativeCacheDirectory);
            if (_native.PatchedVersions.Count > 0)
                log.LogInformation("TorchSharp's native shim patched: {Versions} made weak because the system libstdc++ lacks them; loaded '{Shim}'",
                    string.Join(", ", _native.PatchedVersions), _native.LibTorchSharpPath);
            else if (_native.PatchedAtBuild.Count > 0)
                log.LogInformation("TorchSharp's native shim was patched at build time ({Versions} weak); loaded '{Shim}'",
                    string.Join(", ", _native.PatchedAtBuild), _native.LibTorchSharpPath);
            else
                log.LogDebug("TorchSharp's native shim loaded unpatched from '{Shim}'", _native.LibTorchSharpPath);
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
        catch (TypeInitializationException e) when (e.TypeName == typeof(torch).FullName)
        {
            // TorchSharp loads its native backend in torch's static constructor; .NET keeps that failure for the process.
            throw TorchSharpStartedFirst(e);
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException)
        {
            throw new HArnessRuntimeException($"TorchSharp failed to start: {e.GetBaseException().Message}", _native?.Backend.Directory, e);
        }
        _nativeDone = true;
    }

    /// <summary>
    /// The error for a process in which TorchSharp was called before HArnESS and failed: its first use runs torch's
    /// static constructor, which loads <c>libLibTorchSharp.so</c>; on a libstdc++ without <c>GLIBCXX_3.4.32</c> that
    /// fails, TorchSharp reports it as a missing <c>libtorch-cpu-linux-x64</c> reference, and .NET keeps the failed
    /// type for the life of the process, so nothing loaded afterwards can repair it.
    /// </summary>
    private static HArnessRuntimeException TorchSharpStartedFirst(TypeInitializationException e)
    {
        string cause;
        if (_native is { PatchedVersions.Count: > 0 } patched)
        {
            string stdcxx;
            try
            {
                stdcxx = NativeLoader.SystemLibStdCxx().Path;
            }
            catch (HArnessRuntimeException)
            {
                stdcxx = "libstdc++.so.6";
            }
            cause = $"TorchSharp's libLibTorchSharp.so requires {string.Join(", ", patched.PatchedVersions)}, which '{stdcxx}' does not " +
                    "provide, so TorchSharp's own loader could not load it (it reports this as \"doesn't contain a reference to " +
                    "libtorch-cpu-linux-x64\", although the real cause is the libstdc++ version)";
        }
        else
        {
            cause = $"TorchSharp's own loader failed: {FirstLine(e.GetBaseException().Message)}";
        }
        return new HArnessRuntimeException(
            "TorchSharp was used before HArnESS started it, and its start failed: " + cause + ". .NET remembers a failed " +
            "TorchSharp start for the life of the process, so every later TorchSharp or HArnESS call fails too. Fix: call " +
            "HArnessRuntime.Initialize() (or build any HArnESS model) before the first TorchSharp call, then restart the process " +
            "(in a notebook, restart the kernel). Apps built against the HArnESS.Core package get a patched shim at build time " +
            "and are not affected.", _native?.LibTorchSharpPath, e);
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    private static ComputeDevice DeviceFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(RuntimeOptions.DeviceVariable);
        return string.IsNullOrWhiteSpace(text) ? ComputeDevice.Auto : ComputeDevice.Parse(text);
    }
}
