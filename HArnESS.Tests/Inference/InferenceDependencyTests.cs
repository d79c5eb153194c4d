using System.IO.Compression;
using System.Text.Json;
using NUnit.Framework;

namespace HArnESS.Tests.Inference;

/// <summary>HArnESS.Inference must reach no TorchSharp or libtorch: neither in its restore closure (the project's
/// assets file lists every package it pulls in, transitively) nor in the nuspec a NuGet user receives.</summary>
[NonParallelizable]
public sealed class InferenceDependencyTests
{

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
        using var zip = ZipFile.OpenRead(DotnetProcess.Pack("HArnESS.Inference", output.Path));
        Assert.That(zip.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/HArnESS.Inference.dll"));
        var deps = DotnetProcess.NuspecDependencies(zip);
        Assert.That(deps, Is.EqualTo(new[] { "Microsoft.ML.OnnxRuntime" }));
    }
}
