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

    /// <summary>The libtorch package version TorchSharp 0.107 is built against (preferred among the NuGet cache's versions).</summary>
    public const string ExpectedVersion = "2.10.0";

    /// <summary>Where this installation was found.</summary>
    public LibTorchSource Source { get; init; } = LibTorchSource.Option;

    /// <summary>The backend packages searched in the NuGet cache, CUDA first.</summary>
    internal static readonly string[] CachePackages = ["libtorch-cuda-12.8-linux-x64", "libtorch-cpu-linux-x64"];

    /// <summary>
    /// Finds libtorch: <paramref name="explicitDirectory"/>, then <see cref="RuntimeOptions.LibTorchDirectoryVariable"/>,
    /// then the app's <c>runtimes/linux-x64/native</c> folder or base folder, then (when <paramref name="allowNuGetCache"/>)
    /// the NuGet global packages folders (<c>NUGET_PACKAGES</c>, the <c>nuget.config</c> chain's
    /// <c>globalPackagesFolder</c>, <c>~/.nuget/packages</c>), preferring libtorch <see cref="ExpectedVersion"/>.
    /// </summary>
    /// <param name="explicitDirectory">A libtorch <c>lib</c> folder, or null to search.</param>
    /// <param name="allowNuGetCache">False refuses the NuGet cache fallback (see <see cref="LibTorchSource.NuGetCache"/>).</param>
    /// <exception cref="HArnessRuntimeException">A named folder lacks libtorch, or none was found anywhere allowed.</exception>
    public static LibTorchBackend Locate(string? explicitDirectory, bool allowNuGetCache = true) =>
        Locate(explicitDirectory, allowNuGetCache, Environment.GetEnvironmentVariable(RuntimeOptions.LibTorchDirectoryVariable),
            AppContext.BaseDirectory, NuGetPackageFolders.ForThisProcess);

    /// <summary><see cref="Locate(string?, bool)"/> with the process's environment passed in (for tests).</summary>
    internal static LibTorchBackend Locate(string? explicitDirectory, bool allowNuGetCache, string? environmentDirectory,
        string appBaseDirectory, Func<IReadOnlyList<NuGetPackageFolders.Candidate>> nugetFolders)
    {
        var named = explicitDirectory ?? environmentDirectory;
        if (!string.IsNullOrWhiteSpace(named))
        {
            var source = explicitDirectory is null ? LibTorchSource.EnvironmentVariable : LibTorchSource.Option;
            var dir = Path.GetFullPath(named);
            if (!HasLibTorch(dir))
                throw new HArnessRuntimeException(
                    $"The libtorch folder '{dir}' (from {(source == LibTorchSource.EnvironmentVariable ? RuntimeOptions.LibTorchDirectoryVariable : "RuntimeOptions.LibTorchDirectory")}) " +
                    "does not contain libc10.so, libtorch_cpu.so and libtorch.so. Name the 'lib' folder of a libtorch or PyTorch install.", dir);
            var (v, src) = VersionFromInstall(dir);
            return new LibTorchBackend(dir, v, src, HasCudaLibs(dir)) { Source = source };
        }

        foreach (var dir in new[] { Path.Combine(appBaseDirectory, "runtimes", Rid, "native"), appBaseDirectory })
        {
            if (!HasLibTorch(dir)) continue;
            var (v, src) = VersionFromDepsFiles();
            return new LibTorchBackend(Path.GetFullPath(dir), v, src, HasCudaLibs(dir)) { Source = LibTorchSource.AppPackage };
        }

        const string reference = "Reference the 'libtorch-cpu-linux-x64' package (" + ExpectedVersion + ") from your application, or set " +
                                 RuntimeOptions.LibTorchDirectoryVariable + " / RuntimeOptions.LibTorchDirectory to a libtorch 2.10 'lib' folder";
        if (!allowNuGetCache)
            throw new HArnessRuntimeException(
                $"No libtorch beside the application ('{appBaseDirectory}'), and RuntimeOptions.AllowNuGetCache is false, so the NuGet " +
                $"cache is not searched. {reference}.", appBaseDirectory);

        // Notebooks and scripts reference packages straight from the NuGet cache.
        var roots = nugetFolders();
        if (FromNuGetCache(roots.Select(r => r.Path)) is { } cached) return cached;

        throw new HArnessRuntimeException(
            $"No libtorch found. {reference} (searched '{appBaseDirectory}' and the NuGet package folders " +
            $"{string.Join(", ", roots.Select(r => $"'{r.Path}' ({r.Origin})"))}).", appBaseDirectory);
    }

    /// <summary>
    /// The best libtorch in the given NuGet package folders: <see cref="ExpectedVersion"/> first, then the highest
    /// version with TorchSharp's major.minor, then the highest of any version (refused later unless mismatches are
    /// allowed); CUDA before CPU at equal rank, earlier folders before later ones. Versions compare as versions
    /// (2.10.0 above 2.5.1), a pre-release below its release.
    /// </summary>
    internal static LibTorchBackend? FromNuGetCache(IEnumerable<string> roots)
    {
        var found = new List<(LibTorchBackend Backend, int Root, int Package, NuGetVersion Version)>();
        int rootIndex = 0;
        foreach (var root in roots)
        {
            for (int p = 0; p < CachePackages.Length; p++)
            {
                var packageDir = Path.Combine(root, CachePackages[p]);
                if (!System.IO.Directory.Exists(packageDir)) continue;
                foreach (var versionDir in System.IO.Directory.GetDirectories(packageDir))
                {
                    if (NuGetVersion.TryParse(Path.GetFileName(versionDir)) is not { } version) continue;
                    var dir = Path.Combine(versionDir, "runtimes", Rid, "native");
                    if (!HasLibTorch(dir)) continue;
                    var backend = new LibTorchBackend(dir, version.Text, $"NuGet package {CachePackages[p]} in '{root}'", HasCudaLibs(dir))
                    {
                        Source = LibTorchSource.NuGetCache,
                    };
                    found.Add((backend, rootIndex, p, version));
                }
            }
            rootIndex++;
        }
        return found
            .OrderByDescending(f => f.Version.Text == ExpectedVersion)
            .ThenByDescending(f => MajorMinor(f.Version.Text) == ExpectedMajorMinor)
            .ThenBy(f => f.Package)
            .ThenByDescending(f => f.Version)
            .ThenBy(f => f.Root)
            .Select(f => f.Backend)
            .FirstOrDefault();
    }

    /// <summary>A NuGet folder version (<c>2.10.0</c>, <c>2.10.0-rc1</c>): numeric parts compared as numbers, a pre-release below its release.</summary>
    internal sealed record NuGetVersion(string Text, System.Version Numbers, string? PreRelease) : IComparable<NuGetVersion>
    {
        public static NuGetVersion? TryParse(string text)
        {
            var m = Regex.Match(text, @"^([0-9]+(?:\.[0-9]+){1,3})(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$");
            if (!m.Success || !System.Version.TryParse(m.Groups[1].Value, out var numbers)) return null;
            return new NuGetVersion(text, numbers, m.Groups[2].Success ? m.Groups[2].Value : null);
        }

        public int CompareTo(NuGetVersion? other)
        {
            if (other is null) return 1;
            int c = Normalise(Numbers).CompareTo(Normalise(other.Numbers));
            if (c != 0) return c;
            if (PreRelease is null) return other.PreRelease is null ? 0 : 1;
            return other.PreRelease is null ? -1 : string.CompareOrdinal(PreRelease, other.PreRelease);
        }

        private static System.Version Normalise(System.Version v) => new(v.Major, v.Minor, Math.Max(v.Build, 0), Math.Max(v.Revision, 0));
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
