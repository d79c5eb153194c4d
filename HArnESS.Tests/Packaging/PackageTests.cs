using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using NUnit.Framework;

namespace HArnESS.Tests.Packaging;

/// <summary>
/// Packs the three libraries from the build the tests run on (<c>dotnet pack --no-build</c>) and checks what a NuGet
/// user receives: metadata, README, XML docs, and dependencies that never name a native backend.
/// </summary>
[NonParallelizable]
public sealed class PackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static TempDirectory? _output;

    [OneTimeSetUp]
    public void Pack()
    {
        _output = TestPaths.NewTempDirectory();
        foreach (var project in new[] { "HArnESS.Core", "HArnESS.Distillation", "HArnESS.Downstream" })
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepoRoot };
            foreach (var a in new[] { "pack", Path.Combine(project, project + ".csproj"), "--no-build", "--no-restore", "-c", Configuration, "-o", _output.Path, "-v", "q" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.That(p.WaitForExit(180_000), Is.True, $"dotnet pack {project} did not finish");
            Assert.That(p.ExitCode, Is.EqualTo(0), $"dotnet pack {project} failed:\n{stdout.Result}\n{stderr.Result}");
        }
    }

    [OneTimeTearDown]
    public void CleanUp() => _output?.Dispose();

    [TestCase("HArnESS.Core", new[] { "TorchSharp" })]
    [TestCase("HArnESS.Distillation", new[] { "HArnESS.Core", "TorchSharp" })]
    [TestCase("HArnESS.Downstream", new[] { "HArnESS.Core", "TorchSharp" })]
    public void PackageCarriesMetadataDocsAndOnlyManagedDependencies(string id, string[] mustDependOn)
    {
        var nupkg = Path.Combine(_output!.Path, $"{id}.0.1.0.nupkg");
        Assert.That(File.Exists(nupkg), Is.True, $"{nupkg} was not produced; found: {string.Join(", ", Directory.GetFiles(_output.Path))}");
        using var zip = ZipFile.OpenRead(nupkg);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(names, Does.Contain($"lib/net10.0/{id}.dll"));
        Assert.That(names, Does.Contain($"lib/net10.0/{id}.xml"));
        Assert.That(names, Does.Contain("README.md"));

        XDocument docs;
        using (var s = zip.GetEntry($"lib/net10.0/{id}.xml")!.Open()) docs = XDocument.Load(s);
        var members = docs.Descendants("member").ToList();
        Assert.That(members, Is.Not.Empty);
        Assert.That(members.All(m => m.Element("summary") is { } summary && summary.Value.Trim().Length > 0 || m.Element("inheritdoc") is not null),
            Is.True, "every documented member has a non-empty summary");

        XDocument nuspec;
        using (var s = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()) nuspec = XDocument.Load(s);
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var meta = nuspec.Root.Element(ns + "metadata")!;
        Assert.That(meta.Element(ns + "id")!.Value, Is.EqualTo(id));
        Assert.That(meta.Element(ns + "version")!.Value, Is.EqualTo("0.1.0"));
        Assert.That(meta.Element(ns + "description")!.Value, Is.Not.Empty);
        Assert.That(meta.Element(ns + "license")!.Value, Is.EqualTo("MIT"));
        Assert.That(meta.Element(ns + "readme")!.Value, Is.EqualTo("README.md"));
        Assert.That(meta.Element(ns + "repository")!.Attribute("url")!.Value, Does.StartWith("https://"));

        var dependencies = meta.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        Assert.That(dependencies, Is.SupersetOf(mustDependOn));
        Assert.That(dependencies.Where(d => d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase)), Is.Empty,
            "libraries must leave the native backend to the application");
        Assert.That(dependencies, Does.Not.Contain("NUnit").And.Not.Contain("BenchmarkDotNet"));
    }
}
