using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using NUnit.Framework;

namespace HArnESS.Tests.Export;

/// <summary>The packed HArnESS.Export depends on HArnESS.Core and Google.Protobuf (protobuf stays out of Core; the
/// other entries are Core's centrally pinned transitive packages) and carries no native backend or ONNX Runtime.</summary>
[NonParallelizable]
public sealed class ExportPackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Test]
    public void PackageDependsOnCoreAndProtobufWithoutNatives()
    {
        using var output = TestPaths.NewTempDirectory();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in new[] { "pack", Path.Combine("HArnESS.Export", "HArnESS.Export.csproj"), "--no-build", "--no-restore", "-c", Configuration, "-o", output.Path, "-v", "q" })
            psi.ArgumentList.Add(a);
        using (var p = Process.Start(psi)!)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.That(p.WaitForExit(180_000), Is.True, "dotnet pack did not finish");
            Assert.That(p.ExitCode, Is.EqualTo(0), $"dotnet pack failed:\n{stdout.Result}\n{stderr.Result}");
        }
        using var zip = ZipFile.OpenRead(Path.Combine(output.Path, "HArnESS.Export.0.1.0.nupkg"));
        Assert.That(zip.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/HArnESS.Export.dll").And.Contain("lib/net10.0/HArnESS.Export.xml"));
        XDocument nuspec;
        using (var s = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()) nuspec = XDocument.Load(s);
        var ns = nuspec.Root!.Name.Namespace;
        var deps = nuspec.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).Distinct().Order().ToList();
        Assert.That(deps, Is.SupersetOf(new[] { "Google.Protobuf", "HArnESS.Core" }));
        Assert.That(deps.Where(d => d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase) || d.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal)), Is.Empty,
            "the exporter leaves native backends and ONNX Runtime to the application");
    }
}
