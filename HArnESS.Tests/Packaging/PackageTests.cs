using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using HArnESS.Runtime;
using NUnit.Framework;

namespace HArnESS.Tests.Packaging;

/// <summary>
/// Packs the three libraries from the build the tests run on (<c>dotnet pack --no-build</c>) and checks what a NuGet
/// user receives: metadata, each package's own readme, XML docs, the build-time shim patch, and dependencies that
/// never name a native backend or TorchSharp's own transitive packages. Then a new console app outside the
/// repository restores the packed packages from a temporary feed, builds with warnings as errors, and runs the
/// HArnESS.Core readme's example.
/// </summary>
[NonParallelizable]
public sealed class PackageTests
{

    private static readonly string[] Packages = ["HArnESS.Core", "HArnESS.Distillation", "HArnESS.Downstream"];

    private static readonly string Version = DotnetProcess.TestVersion;

    private static TempDirectory? _output;

    [OneTimeSetUp]
    public void Pack()
    {
        _output = TestPaths.NewTempDirectory();
        foreach (var project in Packages)
        {
            DotnetProcess.Pack(project, Feed);
        }
    }

    [OneTimeTearDown]
    public void CleanUp() => _output?.Dispose();

    private static string Feed => Path.Combine(_output!.Path, "feed");

    [TestCase("HArnESS.Core", new[] { "TorchSharp" })]
    [TestCase("HArnESS.Distillation", new[] { "HArnESS.Core", "TorchSharp" })]
    [TestCase("HArnESS.Downstream", new[] { "HArnESS.Core", "TorchSharp" })]
    public void PackageCarriesMetadataDocsAndOnlyManagedDependencies(string id, string[] mustDependOn)
    {
        using var zip = OpenPackage(id);
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

        var meta = Metadata(zip, out var ns);
        Assert.That(meta.Element(ns + "id")!.Value, Is.EqualTo(id));
        Assert.That(meta.Element(ns + "version")!.Value, Is.EqualTo(Version));
        Assert.That(meta.Element(ns + "description")!.Value, Is.Not.Empty);
        Assert.That(meta.Element(ns + "license")!.Value, Is.EqualTo("MIT"));
        Assert.That(meta.Element(ns + "readme")!.Value, Is.EqualTo("README.md"));
        Assert.That(meta.Element(ns + "repository")!.Attribute("url")!.Value, Does.StartWith("https://"));

        var dependencies = meta.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        Assert.That(dependencies, Is.SupersetOf(mustDependOn));
        if (id != "HArnESS.Core")
            Assert.That(dependencies.Where(d => d.StartsWith("HArnESS.", StringComparison.Ordinal)), Is.Not.Empty, "upper layers build on HArnESS.Core");
        Assert.That(dependencies.Where(d => d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase)), Is.Empty,
            "libraries must leave the native backend to the application");
        Assert.That(dependencies, Does.Not.Contain("NUnit").And.Not.Contain("BenchmarkDotNet").And.Not.Contain("Microsoft.NET.Test.Sdk"));
    }

    [TestCase("HArnESS.Core")]
    [TestCase("HArnESS.Distillation")]
    [TestCase("HArnESS.Downstream")]
    public void NoPackageTurnsTorchSharpsOwnDependenciesIntoItsOwn(string id)
    {
        // Central transitive pinning once made SkiaSharp and SharpZipLib direct dependencies of every package.
        using var zip = OpenPackage(id);
        var meta = Metadata(zip, out var ns);
        var dependencies = meta.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        Assert.That(dependencies, Has.None.StartsWith("SkiaSharp").And.None.StartsWith("SharpZipLib").And.None.StartsWith("Google.Protobuf"));
    }

    [TestCase("HArnESS.Core")]
    [TestCase("HArnESS.Distillation")]
    [TestCase("HArnESS.Downstream")]
    public void EachPackageHasItsOwnReadme(string id)
    {
        using var zip = OpenPackage(id);
        string readme;
        using (var reader = new StreamReader(zip.GetEntry("README.md")!.Open())) readme = reader.ReadToEnd();
        Assert.That(readme, Does.StartWith($"# {id}\n"), "the package's own readme, not the repository's");
        Assert.That(readme, Does.Contain("libtorch-cpu-linux-x64"), "it says how to add the native backend");
        Assert.That(readme, Does.Not.Contain("data/demo").And.Not.Contain("dotnet run --project").And.Not.Contain("HArnESS.sln"),
            "repository paths and commands mean nothing inside a package");
    }

    [Test]
    public void CorePackageCarriesTheBuildTimeShimPatchAndTheNotebookExtension()
    {
        using var zip = OpenPackage("HArnESS.Core");
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(names, Does.Contain("buildTransitive/HArnESS.Core.targets"));
        Assert.That(names, Does.Contain("interactive-extensions/dotnet/extension.dib"));
        string targets;
        using (var reader = new StreamReader(zip.GetEntry("buildTransitive/HArnESS.Core.targets")!.Open())) targets = reader.ReadToEnd();
        Assert.That(targets, Does.Contain("GLIBCXX_3.4.32").And.Contain("HArnessPatchTorchSharpShim"));
    }

    /// <summary>
    /// The "done when" of issue 8: a new console app outside the repository (its own nuget.config: the packed
    /// packages' feed plus the served feed) references the three packages and libtorch-cpu-linux-x64, restores and
    /// builds with warnings as errors and none at all, and runs the HArnESS.Core readme's example on a demo WAV. That
    /// example calls <c>torch.randn(3)</c> before any HArnESS call: it works because the package's build step patched
    /// the app's shim. With the unpatched shim put back, the same program must stop with the named cause and fix.
    /// </summary>
    [Test]
    public void ANewConsoleAppBuildsWithoutWarningsAndRunsTheCoreReadmeExample()
    {
        var app = Path.Combine(_output!.Path, "app");
        Directory.CreateDirectory(app);
        var realCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } v
            ? v : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var sources = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "nuget.config")).Root!.Element("packageSources")!
            .Elements("add").Select(e => new XElement("add", new XAttribute("key", (string)e.Attribute("key")!), new XAttribute("value", (string)e.Attribute("value")!)));
        // Packages already in the machine's cache are used from it in place (a fallback folder copies nothing); what this
        // app restores new (the packed HArnESS packages) lands in its own folder, so no run leaves anything behind.
        new XDocument(new XElement("configuration",
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", "packages"))),
            new XElement("fallbackPackageFolders", new XElement("clear"), new XElement("add", new XAttribute("key", "machine"), new XAttribute("value", realCache))),
            new XElement("packageSources", new XElement("clear"),
                new XElement("add", new XAttribute("key", "packed"), new XAttribute("value", Feed)), sources)))
            .Save(Path.Combine(app, "nuget.config"));
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="HArnESS.Core" Version="{Version}" />
                <PackageReference Include="HArnESS.Distillation" Version="{Version}" />
                <PackageReference Include="HArnESS.Downstream" Version="{Version}" />
                <PackageReference Include="libtorch-cpu-linux-x64" Version="{LibTorchBackend.ExpectedVersion}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), CoreReadmeExample());

        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = null };
        var (buildCode, buildText) = Run(app, environment, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-warnaserror");
        Assert.That(buildCode, Is.EqualTo(0), buildText);
        Assert.That(buildText, Does.Contain("0 Warning(s)").And.Not.Match(@"warning [A-Z]+\d+"), buildText);

        var output = Path.Combine(app, "bin", "Release", "net10.0");
        var shim = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var original = Path.Combine(realCache, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(ElfSymbolVersions.Read(shim).Required.Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak, Is.True, "the build patched the app's copy");
        Assert.That(ElfSymbolVersions.Read(original).Required.Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak, Is.False, "and left the NuGet cache alone");

        var wav = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "data", "demo", "wav"), "*.wav", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        long samples = HArnESS.Audio.WavReader.ReadInfo(wav).Frames;
        var runEnvironment = new Dictionary<string, string?>
        {
            [RuntimeOptions.NativeCacheDirectoryVariable] = Path.Combine(_output.Path, "native-cache"),
            [RuntimeOptions.DeviceVariable] = null,
            [RuntimeOptions.LibTorchDirectoryVariable] = null,
        };
        var (runCode, runText) = Run(app, runEnvironment, Path.Combine(output, "app.dll"), wav);
        Assert.That(runCode, Is.EqualTo(0), runText);
        Assert.That(runText, Does.Contain("torch.randn(3): 3 values"));
        Assert.That(runText, Does.Contain($"libtorch {LibTorchBackend.ExpectedVersion} from {Path.Combine(output, "runtimes", "linux-x64", "native")} (AppPackage)"));
        Assert.That(runText, Does.Contain("[patched at build: GLIBCXX_3.4.32 weak]").And.Not.Contain("[patched: "), "the runtime needed no copy of its own");
        Assert.That(runText, Does.Contain($"last hidden state [1, {Wav2Vec2Frames(samples)}, 64]"), runText);

        // Without the build-time patch (HArnessPatchTorchSharpShim=false), on a libstdc++ that lacks GLIBCXX_3.4.32,
        // TorchSharp-first fails for the rest of the process; HArnESS must then name the real cause and the fix.
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            try { using var t = TorchSharp.torch.randn(3); Console.WriteLine("torch first: ok"); }
            catch (TypeInitializationException) { Console.WriteLine("torch first: failed"); }
            try { Console.WriteLine($"harness: {HArnESS.Runtime.HArnessRuntime.Initialize()}"); }
            catch (HArnESS.HArnessRuntimeException e) { Console.WriteLine($"harness: {e.GetType().Name}: {e.Message}"); return 3; }
            return 0;
            """);
        File.Copy(original, shim, overwrite: true);
        (buildCode, buildText) = Run(app, environment, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-warnaserror", "-p:HArnessPatchTorchSharpShim=false");
        Assert.That(buildCode, Is.EqualTo(0), buildText);
        Assert.That(ElfSymbolVersions.Read(shim).Required.Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak, Is.False, "the opt-out leaves the shim alone");

        bool systemHasVersion = NativeLoader.SystemLibStdCxx().Defined.Contains("GLIBCXX_3.4.32");
        var (probeCode, probeText) = Run(app, runEnvironment, Path.Combine(output, "app.dll"));
        if (systemHasVersion)
        {
            Assert.That(probeCode, Is.EqualTo(0), probeText);
            Assert.That(probeText, Does.Contain("torch first: ok"));
        }
        else
        {
            Assert.That(probeCode, Is.EqualTo(3), probeText);
            Assert.That(probeText, Does.Contain("torch first: failed"));
            Assert.That(probeText, Does.Contain("harness: HArnessRuntimeException: TorchSharp was used before HArnESS started it"));
            Assert.That(probeText, Does.Contain("requires GLIBCXX_3.4.32").And.Contain("HArnessRuntime.Initialize()").And.Contain("restart the process"));
        }
    }

    /// <summary>The first C# block of HArnESS.Core/README.md, the example a package user sees.</summary>
    private static string CoreReadmeExample()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "HArnESS.Core", "README.md"));
        var m = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.That(m.Success, Is.True, "HArnESS.Core/README.md has a csharp example");
        return m.Groups[1].Value;
    }

    /// <summary>Frames of the wav2vec 2.0 CNN (kernel/stride 10/5, 3/2 ×4, 2/2 ×2), written out independently of the library.</summary>
    private static long Wav2Vec2Frames(long samples)
    {
        long n = samples;
        foreach (var (k, s) in new[] { (10, 5), (3, 2), (3, 2), (3, 2), (3, 2), (2, 2), (2, 2) }) n = (n - k) / s + 1;
        return n;
    }

    private static ZipArchive OpenPackage(string id)
    {
        var nupkg = Path.Combine(Feed, $"{id}.{Version}.nupkg");
        Assert.That(File.Exists(nupkg), Is.True, $"{nupkg} was not produced; found: {string.Join(", ", Directory.GetFiles(Feed))}");
        return ZipFile.OpenRead(nupkg);
    }

    private static XElement Metadata(ZipArchive zip, out XNamespace ns)
    {
        XDocument nuspec;
        using (var s = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()) nuspec = XDocument.Load(s);
        ns = nuspec.Root!.Name.Namespace;
        return nuspec.Root.Element(ns + "metadata")!;
    }

    private static (int Code, string Text) Run(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        DotnetProcess.Run(workingDirectory, args, environment);
}
