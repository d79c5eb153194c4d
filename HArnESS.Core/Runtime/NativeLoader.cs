using HArnESS.Serialization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace HArnESS.Runtime;

/// <summary>What <see cref="NativeLoader"/> did to start libtorch.</summary>
/// <param name="Backend">The libtorch installation that was loaded.</param>
/// <param name="LibTorchSharpPath">The <c>libLibTorchSharp.so</c> that was loaded (a patched cached copy when <paramref name="PatchedVersions"/> is not empty).</param>
/// <param name="PatchedVersions">Version requirements made weak because the system's libstdc++ lacks them.</param>
public sealed record NativeLoadReport(LibTorchBackend Backend, string LibTorchSharpPath, IReadOnlyList<string> PatchedVersions)
{
    /// <summary>Versions the shim already required weakly when it was found: the HArnESS.Core package's build step
    /// patched the app's copy (empty for an unpatched shim).</summary>
    public IReadOnlyList<string> PatchedAtBuild { get; init; } = [];
}

/// <summary>
/// Loads libtorch and TorchSharp's native shim on Linux before TorchSharp's own loader runs, so that it finds them
/// already in the process (by soname) and starts normally.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> requires <c>GLIBCXX_3.4.32</c> (GCC 13's libstdc++) for one symbol,
/// <c>std::ios_base_library_init</c>, that it never calls. On Debian 12 or Ubuntu 22.04 that version is absent and
/// the library does not load. When — and only when — the system libstdc++ lacks it, a copy whose requirement is
/// weak is written to a cache keyed by the original's hash and loaded instead.
/// </remarks>
public static class NativeLoader
{
    /// <summary>Versions that may be made weak: each stands for symbols TorchSharp's shim links but never calls.</summary>
    public static readonly IReadOnlySet<string> WeakenableVersions = new HashSet<string>(StringComparer.Ordinal) { "GLIBCXX_3.4.32" };

    private const string ShimName = "libLibTorchSharp.so";

    /// <summary>Loads libtorch from <paramref name="backend"/> and the TorchSharp shim, patching the shim when needed.</summary>
    /// <param name="backend">Where libtorch lives.</param>
    /// <param name="cacheDirectory">Cache for patched copies; null for the default.</param>
    /// <exception cref="HArnessRuntimeException">A library cannot be found or loaded, or the system libstdc++ lacks versions that cannot be weakened.</exception>
    public static NativeLoadReport Load(LibTorchBackend backend, string? cacheDirectory)
    {
        ArgumentNullException.ThrowIfNull(backend);
        // Full paths, in dependency order: the shim's DT_NEEDED entries then resolve to these by soname.
        foreach (var name in new[] { "libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so" })
        {
            var path = Path.Combine(backend.Directory, name);
            if (File.Exists(path)) LoadOrThrow(path, $"libtorch library '{name}' from '{backend.Directory}'");
        }

        var shim = FindShim();
        var stdcxxRequirements = ElfSymbolVersions.Read(shim).Required
            .Where(r => r.File.StartsWith("libstdc++", StringComparison.Ordinal)).ToList();
        var required = stdcxxRequirements.Where(r => !r.IsWeak).Select(r => r.Name).Distinct().ToList();
        var patchedAtBuild = stdcxxRequirements.Where(r => r.IsWeak && WeakenableVersions.Contains(r.Name)).Select(r => r.Name).Distinct().ToList();
        var (stdcxxPath, defined) = SystemLibStdCxx();
        var missing = required.Where(v => !defined.Contains(v)).ToList();
        if (missing.Count == 0)
        {
            LoadOrThrow(shim, $"TorchSharp's native library '{shim}'");
            return new NativeLoadReport(backend, shim, []) { PatchedAtBuild = patchedAtBuild };
        }

        var unfixable = missing.Where(v => !WeakenableVersions.Contains(v)).ToList();
        if (unfixable.Count > 0)
            throw new HArnessRuntimeException(
                $"'{shim}' needs {string.Join(", ", unfixable)} from libstdc++, which '{stdcxxPath}' does not provide, and " +
                "those versions cannot be patched away safely. Install a newer libstdc++6 (GCC 13 or later, e.g. Debian 13 or Ubuntu 24.04).",
                stdcxxPath);

        var patched = PatchedCopy(shim, missing, cacheDirectory);
        LoadOrThrow(patched, $"patched copy '{patched}' of TorchSharp's native library");
        return new NativeLoadReport(backend, patched, missing);
    }

    /// <summary>Finds the shim beside the app or beside the TorchSharp assembly (NuGet cache layout).</summary>
    private static string FindShim()
    {
        var candidates = new List<string>
        {
            Path.Combine(AppContext.BaseDirectory, "runtimes", LibTorchBackend.Rid, "native", ShimName),
            Path.Combine(AppContext.BaseDirectory, ShimName),
        };
        var torchSharpDir = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchSharpDir))
        {
            candidates.Add(Path.Combine(torchSharpDir, ShimName));
            candidates.Add(Path.GetFullPath(Path.Combine(torchSharpDir, "..", "..", "runtimes", LibTorchBackend.Rid, "native", ShimName)));
        }
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new HArnessRuntimeException(
                $"TorchSharp's native library {ShimName} was not found; looked in: {string.Join(", ", candidates)}. " +
                "Reference the TorchSharp package (0.107.0) from the application.");
    }

    /// <summary>The libstdc++ this process uses and the versions it defines.</summary>
    internal static (string Path, HashSet<string> Defined) SystemLibStdCxx()
    {
        var path = MappedLibrary("libstdc++.so.6");
        if (path is null)
        {
            if (!NativeLibrary.TryLoad("libstdc++.so.6", out _))
                throw new HArnessRuntimeException("The C++ runtime libstdc++.so.6 cannot be loaded; install the libstdc++6 package.");
            path = MappedLibrary("libstdc++.so.6")
                ?? throw new HArnessRuntimeException("libstdc++.so.6 loaded but its file was not found in /proc/self/maps.");
        }
        return (path, new HashSet<string>(ElfSymbolVersions.Read(path).Defined, StringComparer.Ordinal));
    }

    private static string? MappedLibrary(string soname)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash < 0) continue;
            var file = line[slash..];
            if (Path.GetFileName(file).StartsWith(soname, StringComparison.Ordinal) && File.Exists(file)) return file;
        }
        return null;
    }

    /// <summary>
    /// Writes (once) a copy of <paramref name="source"/> with <paramref name="versions"/> weak, under a folder named by
    /// the source's SHA-256. Written to a temporary name and renamed, so processes starting at once never see a
    /// half-written file.
    /// </summary>
    internal static string PatchedCopy(string source, IReadOnlyCollection<string> versions, string? cacheDirectory)
    {
        var bytes = File.ReadAllBytes(source);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
        var root = cacheDirectory ?? Environment.GetEnvironmentVariable(RuntimeOptions.NativeCacheDirectoryVariable) ?? DefaultCacheRoot();
        var dir = Path.Combine(root, hash);
        var target = Path.Combine(dir, ShimName);
        if (File.Exists(target) && new FileInfo(target).Length == bytes.Length) return target;
        try
        {
            Directory.CreateDirectory(dir);
            var (image, _) = ElfVersionPatcher.MakeWeak(bytes, versions, source);
            AtomicFile.WriteAllBytes(target, image, overwrite: false); // false: another process won the race with identical content
            return target;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HArnessRuntimeException(
                $"Cannot write the patched copy of '{source}' into '{dir}': {e.Message}. Set {RuntimeOptions.NativeCacheDirectoryVariable} " +
                "or RuntimeOptions.NativeCacheDirectory to a writable folder.", dir, e);
        }
    }

    private static string DefaultCacheRoot()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var baseDir = !string.IsNullOrEmpty(xdg) ? xdg
            : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache")
            : Path.GetTempPath();
        return Path.Combine(baseDir, "harness", "native");
    }

    private static void LoadOrThrow(string path, string what)
    {
        try
        {
            NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new HArnessRuntimeException($"Cannot load {what}: {e.Message}", path, e);
        }
        catch (BadImageFormatException e)
        {
            throw new HArnessRuntimeException($"Cannot load {what}: not a native library for this platform ({e.Message}).", path, e);
        }
    }
}
