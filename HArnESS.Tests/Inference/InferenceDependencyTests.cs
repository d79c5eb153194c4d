using System.Text.Json;
using NUnit.Framework;

namespace HArnESS.Tests.Inference;

/// <summary>HArnESS.Inference must reach no TorchSharp or libtorch in its restore closure (the project's assets file
/// lists every package it pulls in, transitively). The packed nuspec and a NuGet user's restore closure are checked in
/// <c>Packaging/PackageTests</c>.</summary>
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
}
