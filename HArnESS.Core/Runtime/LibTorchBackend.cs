using System.Text.Json;
using System.Text.RegularExpressions;

namespace HArnESS.Runtime;

/// <summary>A libtorch installation found on disk: its folder, version and whether it is a CUDA build.</summary>
/// <param name="Directory">Folder with <c>libc10</c>, <c>libtorch_cpu</c>, <c>libtorch</c> (and the CUDA libraries for a GPU build).</param>
/// <param name="Version">The libtorch version (e.g. <c>2.10.0</c>, <c>2.10.0+cu128</c>), or null when it could not be told.</param>
/// <param name="VersionSource">Where the version was read from (a file, a package name), for messages.</param>
/// <param name="HasCuda">True when the folder holds <c>libtorch_cuda</c>.</param>
public sealed record LibTorchBackend(string Directory, string? Version, string VersionSource, bool HasCuda)
{
    /// <summary>The libtorch major.minor that TorchSharp 0.107 is built against.</summary>
    public const string ExpectedMajorMinor = "2.10";

    /// <summary>The runtime identifier whose native folders (<c>runtimes/linux-x64/native</c>) are searched.</summary>
    internal const string Rid = "linux-x64";

    /// <summary>True when <see cref="Version"/> is known and has major.minor <see cref="ExpectedMajorMinor"/>.</summary>
    public bool MatchesTorchSharp => Version is not null && MajorMinor(Version) == ExpectedMajorMinor;

    /// <summary>
    /// Refuses a libtorch whose version is known and differs from <see cref="ExpectedMajorMinor"/>; an unknown version
    /// is let through (it shows as unknown in <see cref="RuntimeInfo"/>).
    /// </summary>
    /// <param name="allowMismatch">Let a mismatched version through anyway.</param>
    /// <exception cref="HArnessRuntimeException">The version is known, differs, and <paramref name="allowMismatch"/> is false.</exception>
    public void EnsureMatchesTorchSharp(bool allowMismatch)
    {
        if (Version is null || MatchesTorchSharp || allowMismatch) return;
        throw new HArnessRuntimeException(
            $"libtorch {Version} (from {VersionSource}) in '{Directory}' does not match TorchSharp 0.107, which needs libtorch " +
            $"{ExpectedMajorMinor}.x. Use a libtorch {ExpectedMajorMinor} folder, or set RuntimeOptions.AllowLibTorchVersionMismatch at your own risk.",
            Directory);
    }

    internal static string? MajorMinor(string version)
    {
        var m = Regex.Match(version, @"^(\d+)\.(\d+)");
        return m.Success ? $"{m.Groups[1].Value}.{m.Groups[2].Value}" : null;
    }

    /// <summary>
    /// Finds libtorch: <paramref name="explicitDirectory"/>, then <see cref="RuntimeOptions.LibTorchDirectoryVariable"/>,
    /// then the app's <c>runtimes/linux-x64/native</c> folder or base folder, then the NuGet package cache.
    /// </summary>
    /// <exception cref="HArnessRuntimeException">A named folder lacks libtorch, or none was found anywhere.</exception>
    public static LibTorchBackend Locate(string? explicitDirectory)
    {
        var named = explicitDirectory ?? Environment.GetEnvironmentVariable(RuntimeOptions.LibTorchDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(named))
        {
            var dir = Path.GetFullPath(named);
            if (!HasLibTorch(dir))
                throw new HArnessRuntimeException(
                    $"The libtorch folder '{dir}' (from {(explicitDirectory is null ? RuntimeOptions.LibTorchDirectoryVariable : "RuntimeOptions.LibTorchDirectory")}) " +
                    "does not contain libc10.so, libtorch_cpu.so and libtorch.so. Name the 'lib' folder of a libtorch or PyTorch install.", dir);
            var (v, src) = VersionFromInstall(dir);
            return new LibTorchBackend(dir, v, src, HasCudaLibs(dir));
        }

        foreach (var dir in new[] { Path.Combine(AppContext.BaseDirectory, "runtimes", Rid, "native"), AppContext.BaseDirectory })
        {
            if (!HasLibTorch(dir)) continue;
            var (v, src) = VersionFromDepsFiles();
            return new LibTorchBackend(Path.GetFullPath(dir), v, src, HasCudaLibs(dir));
        }

        // Notebooks and scripts reference packages straight from the NuGet cache.
        var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var package in new[] { "libtorch-cuda-12.8-linux-x64", "libtorch-cpu-linux-x64" })
        {
            var root = Path.Combine(nugetRoot, package);
            if (!System.IO.Directory.Exists(root)) continue;
            foreach (var versionDir in System.IO.Directory.GetDirectories(root).OrderByDescending(d => d, StringComparer.Ordinal))
            {
                var dir = Path.Combine(versionDir, "runtimes", Rid, "native");
                if (HasLibTorch(dir))
                    return new LibTorchBackend(dir, Path.GetFileName(versionDir), $"NuGet package {package}", HasCudaLibs(dir));
            }
        }

        throw new HArnessRuntimeException(
            "No libtorch found. Reference the 'libtorch-cpu-linux-x64' package (2.10.0) from your application, or set " +
            $"{RuntimeOptions.LibTorchDirectoryVariable} / RuntimeOptions.LibTorchDirectory to a libtorch 2.10 'lib' folder " +
            $"(searched '{AppContext.BaseDirectory}' and the NuGet cache '{nugetRoot}').");
    }

    internal static bool HasLibTorch(string dir) =>
        File.Exists(Path.Combine(dir, "libc10.so")) && File.Exists(Path.Combine(dir, "libtorch_cpu.so")) && File.Exists(Path.Combine(dir, "libtorch.so"));

    private static bool HasCudaLibs(string dir) => File.Exists(Path.Combine(dir, "libtorch_cuda.so"));

    /// <summary>A libtorch zip has <c>build-version</c> beside <c>lib/</c>; a PyTorch install has <c>torch/version.py</c>.</summary>
    internal static (string? Version, string Source) VersionFromInstall(string libDir)
    {
        var parent = System.IO.Directory.GetParent(libDir)?.FullName ?? libDir;
        foreach (var file in new[] { Path.Combine(parent, "build-version"), Path.Combine(libDir, "build-version") })
        {
            if (File.Exists(file))
            {
                var text = File.ReadAllText(file).Trim();
                if (text.Length > 0) return (text, file);
            }
        }
        var versionPy = Path.Combine(parent, "version.py");
        if (File.Exists(versionPy))
        {
            var m = Regex.Match(File.ReadAllText(versionPy), @"__version__\s*=\s*['""]([^'""]+)['""]");
            if (m.Success) return (m.Groups[1].Value, versionPy);
        }
        return (null, $"no build-version or version.py beside '{libDir}'");
    }

    /// <summary>An app's <c>.deps.json</c> names the backend package and its version (e.g. <c>libtorch-cpu-linux-x64/2.10.0</c>).</summary>
    private static (string? Version, string Source) VersionFromDepsFiles()
    {
        var files = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?.Split(';', StringSplitOptions.RemoveEmptyEntries) ?? [];
        foreach (var file in files.Where(File.Exists))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                if (!doc.RootElement.TryGetProperty("libraries", out var libs)) continue;
                foreach (var lib in libs.EnumerateObject())
                {
                    var parts = lib.Name.Split('/');
                    if (parts.Length == 2 && parts[0].StartsWith("libtorch-", StringComparison.OrdinalIgnoreCase)
                        && !parts[0].Equals("libtorch-cpu", StringComparison.OrdinalIgnoreCase))
                        return (parts[1], $"package {parts[0]} in {Path.GetFileName(file)}");
                }
            }
            catch (JsonException)
            {
                // A deps file we cannot read says nothing about the version; the caller reports "unknown".
            }
        }
        return (null, "no libtorch package in the app's .deps.json");
    }
}
