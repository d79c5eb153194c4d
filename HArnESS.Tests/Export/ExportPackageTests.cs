using System.IO.Compression;
using NUnit.Framework;

namespace HArnESS.Tests.Export;

/// <summary>The packed HArnESS.Export depends on HArnESS.Core and Google.Protobuf (protobuf stays out of Core; the
/// other entries are Core's centrally pinned transitive packages) and carries no native backend or ONNX Runtime.</summary>
[NonParallelizable]
public sealed class ExportPackageTests
{

    [Test]
    public void PackageDependsOnCoreAndProtobufWithoutNatives()
    {
        using var output = TestPaths.NewTempDirectory();
        using var zip = ZipFile.OpenRead(DotnetProcess.Pack("HArnESS.Export", output.Path));
        Assert.That(zip.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/HArnESS.Export.dll").And.Contain("lib/net10.0/HArnESS.Export.xml"));
        var deps = DotnetProcess.NuspecDependencies(zip);
        Assert.That(deps, Is.SupersetOf(new[] { "Google.Protobuf", "HArnESS.Core" }));
        Assert.That(deps.Where(d => d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase) || d.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal)), Is.Empty,
            "the exporter leaves native backends and ONNX Runtime to the application");
    }
}
