using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using NUnit.Framework;

namespace HArnESS.Tests.Inference;

/// <summary>HArnESS.Inference must reach no TorchSharp or libtorch: neither in its restore closure (the project's
/// assets file lists every package it pulls in, transitively) nor in the nuspec a NuGet user receives.</summary>
[NonParallelizable]
public sealed class InferenceDependencyTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static bool IsTorch(string id) =>
        id.Contains("torch", StringComparison.OrdinalIgnoreCase) || id.StartsWith("HArnESS.Core", StringComparison.OrdinalIgnoreCase);

    [Test]
    public void RestoreClosureHasNoTorchSharpOrLibtorch()
    {
        var assets = Path.Combine(TestPaths.RepoRoot, "HArnESS.Inference", "obj", "project.assets.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(assets));
        var libraries = doc.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name.Split('/')[0]).ToList();
        Assert.That(libraries, Does.Contain("Microsoft.ML.OnnxRuntime"));
        Assert.That(libraries.Where(IsTorch), Is.Empty, "HArnESS.Inference's dependency closure: " + string.Join(", ", libraries));
        foreach (var target in doc.RootElement.GetProperty("targets").EnumerateObject())
            Assert.That(target.Value.EnumerateObject().Select(p => p.Name).Where(IsTorch), Is.Empty, target.Name);
    }

    [Test]
    public void PackedNuspecDependsOnOnnxRuntimeOnly()
    {
        using var output = TestPaths.NewTempDirectory();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in new[] { "pack", Path.Combine("HArnESS.Inference", "HArnESS.Inference.csproj"), "--no-build", "--no-restore", "-c", Configuration, "-o", output.Path, "-v", "q" })
            psi.ArgumentList.Add(a);
        using (var p = Process.Start(psi)!)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.That(p.WaitForExit(180_000), Is.True, "dotnet pack did not finish");
            Assert.That(p.ExitCode, Is.EqualTo(0), $"dotnet pack failed:\n{stdout.Result}\n{stderr.Result}");
        }
        using var zip = ZipFile.OpenRead(Path.Combine(output.Path, "HArnESS.Inference.0.1.0.nupkg"));
        Assert.That(zip.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/HArnESS.Inference.dll"));
        XDocument nuspec;
        using (var s = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()) nuspec = XDocument.Load(s);
        var ns = nuspec.Root!.Name.Namespace;
        var deps = nuspec.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).Distinct().ToList();
        Assert.That(deps, Is.EqualTo(new[] { "Microsoft.ML.OnnxRuntime" }));
    }
}
