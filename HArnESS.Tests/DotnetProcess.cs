using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using NUnit.Framework;

namespace HArnESS.Tests;

/// <summary>Runs the <c>dotnet</c> CLI from tests (pack, build, run a child app) with a bounded wait, and reads what a
/// pack produced.</summary>
internal static class DotnetProcess
{
#if DEBUG
    internal const string Configuration = "Debug";
#else
    internal const string Configuration = "Release";
#endif

    /// <summary>Runs <c>dotnet args…</c>; the exit code and stdout + stderr. A run past the timeout is killed and fails the test.</summary>
    internal static (int Code, string Text) Run(string workingDirectory, IEnumerable<string> args,
        IReadOnlyDictionary<string, string?>? environment = null, int timeoutMs = 300_000)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', psi.ArgumentList)} did not finish in {timeoutMs / 1000} s");
        }
        return (p.ExitCode, stdout.Result + "\n" + stderr.Result);
    }

    /// <summary>A package version of this test run's own, so no NuGet cache can hand back an older pack.</summary>
    internal static readonly string TestVersion = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}{Environment.ProcessId % 1000:D3}";

    /// <summary>Packs a library of the solution (already built) into <paramref name="outputDirectory"/> as
    /// <see cref="TestVersion"/>; returns the .nupkg path.</summary>
    /// <param name="project">The project folder and name, e.g. <c>HArnESS.Core</c>.</param>
    /// <param name="outputDirectory">The feed folder.</param>
    internal static string Pack(string project, string outputDirectory)
    {
        var (code, text) = Run(TestPaths.RepoRoot, ["pack", Path.Combine(project, project + ".csproj"), "--no-build", "--no-restore",
            "-c", Configuration, "-o", outputDirectory, "-v", "q", $"-p:PackageVersion={TestVersion}"]);
        Assert.That(code, Is.EqualTo(0), $"dotnet pack {project} failed:\n{text}");
        var nupkg = Path.Combine(outputDirectory, $"{project}.{TestVersion}.nupkg");
        Assert.That(File.Exists(nupkg), Is.True, $"dotnet pack {project} did not produce {nupkg}");
        return nupkg;
    }

    /// <summary>The package ids a .nupkg's nuspec declares as dependencies (all target groups), sorted, distinct.</summary>
    internal static IReadOnlyList<string> NuspecDependencies(ZipArchive package)
    {
        XDocument nuspec;
        using (var s = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()) nuspec = XDocument.Load(s);
        var ns = nuspec.Root!.Name.Namespace;
        return nuspec.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).Distinct().Order(StringComparer.Ordinal).ToList();
    }
}
