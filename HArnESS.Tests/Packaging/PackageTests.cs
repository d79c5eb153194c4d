using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using HArnESS.Runtime;
using NUnit.Framework;

namespace HArnESS.Tests.Packaging;

/// <summary>
/// Packs the six libraries from the build the tests run on (<c>dotnet pack --no-build</c>) and checks what a NuGet
/// user receives: metadata, each package's own readme, XML docs, the build-time shim patch, and dependencies that
/// never name a native backend or TorchSharp's own transitive packages (and, for HArnESS.Inference, no TorchSharp at
/// all, in its whole restore closure). Then a new console app outside the repository restores all six from a local
/// folder feed only, builds with warnings as errors (compiling every package readme's example), and runs the
/// HArnESS.Core readme's example and the repository README's "The API in 20 lines".
/// </summary>
[NonParallelizable]
public sealed class PackageTests
{

    private static readonly string[] Packages =
        ["HArnESS.Core", "HArnESS.Distillation", "HArnESS.Downstream", "HArnESS.Export", "HArnESS.Inference", "HArnESS.Reporting"];

    /// <summary>The packages built on TorchSharp (all but Inference): they say how to add libtorch.</summary>
    private static bool UsesTorchSharp(string id) => id != "HArnESS.Inference";

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
    [TestCase("HArnESS.Export", new[] { "HArnESS.Core", "Google.Protobuf" })]
    [TestCase("HArnESS.Inference", new[] { "Microsoft.ML.OnnxRuntime" })]
    [TestCase("HArnESS.Reporting", new[] { "HArnESS.Core", "ScottPlot" })]
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
        Assert.That(meta.Element(ns + "description")!.Value, Has.Length.GreaterThan(60), "a description that says what is in the package");
        Assert.That(meta.Element(ns + "license")!.Value, Is.EqualTo("MIT"));
        Assert.That(meta.Element(ns + "readme")!.Value, Is.EqualTo("README.md"));
        Assert.That(meta.Element(ns + "repository")!.Attribute("url")!.Value, Does.StartWith("https://"));

        var dependencies = meta.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        Assert.That(dependencies, Is.SupersetOf(mustDependOn));
        if (id is not "HArnESS.Core" and not "HArnESS.Inference")
            Assert.That(dependencies, Does.Contain("HArnESS.Core"), "upper layers build on HArnESS.Core");
        Assert.That(dependencies.Where(d => d.StartsWith("HArnESS.", StringComparison.Ordinal)), Is.SubsetOf(new[] { "HArnESS.Core" }),
            "nothing points upward or sideways (CONTRIBUTING, layers)");
        if (id == "HArnESS.Inference")
            Assert.That(dependencies, Is.EqualTo(new[] { "Microsoft.ML.OnnxRuntime" }), "ONNX Runtime only: no TorchSharp, no HArnESS.Core");
        if (id == "HArnESS.Export")
            Assert.That(dependencies.Where(d => d.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal)), Is.Empty, "the exporter leaves ONNX Runtime to the application");
        Assert.That(dependencies.Where(d => d.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase)), Is.Empty,
            "libraries must leave the native backend to the application");
        Assert.That(dependencies, Does.Not.Contain("NUnit").And.Not.Contain("BenchmarkDotNet").And.Not.Contain("Microsoft.NET.Test.Sdk"));
    }

    [TestCase("HArnESS.Core")]
    [TestCase("HArnESS.Distillation")]
    [TestCase("HArnESS.Downstream")]
    [TestCase("HArnESS.Export")]
    [TestCase("HArnESS.Inference")]
    [TestCase("HArnESS.Reporting")]
    public void NoPackageTurnsTorchSharpsOwnDependenciesIntoItsOwn(string id)
    {
        // Central transitive pinning once made SkiaSharp and SharpZipLib direct dependencies of every package.
        using var zip = OpenPackage(id);
        var meta = Metadata(zip, out var ns);
        var dependencies = meta.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToList();
        // A package's own direct references stay (Reporting draws with SkiaSharp, Export writes protobuf).
        string[] own = id switch { "HArnESS.Reporting" => ["SkiaSharp"], "HArnESS.Export" => ["Google.Protobuf"], _ => [] };
        var leaked = dependencies.Where(d => new[] { "SkiaSharp", "SharpZipLib", "Google.Protobuf" }.Any(p => d.StartsWith(p, StringComparison.Ordinal))
            && !own.Any(o => d.StartsWith(o, StringComparison.Ordinal)));
        Assert.That(leaked, Is.Empty);
    }

    [TestCase("HArnESS.Core")]
    [TestCase("HArnESS.Distillation")]
    [TestCase("HArnESS.Downstream")]
    [TestCase("HArnESS.Export")]
    [TestCase("HArnESS.Inference")]
    [TestCase("HArnESS.Reporting")]
    public void EachPackageHasItsOwnReadme(string id)
    {
        using var zip = OpenPackage(id);
        string readme;
        using (var reader = new StreamReader(zip.GetEntry("README.md")!.Open())) readme = reader.ReadToEnd();
        Assert.That(readme, Does.StartWith($"# {id}\n"), "the package's own readme, not the repository's");
        Assert.That(readme, Has.Length.GreaterThan(1000), "it says what is in the package, not just its name");
        Assert.That(readme, Does.Contain($"<PackageReference Include=\"{id}\""), "it shows the package reference");
        if (UsesTorchSharp(id))
            Assert.That(readme, Does.Contain("libtorch-cpu-linux-x64"), "it says how to add the native backend");
        else
            Assert.That(readme, Does.Contain("no libtorch").And.Not.Contain("<PackageReference Include=\"libtorch"), "it says that no native torch backend is needed");
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
    /// HArnESS.Inference as a NuGet user restores it: the whole closure of an app that references only it holds no
    /// TorchSharp, no libtorch and no HArnESS.Core (the project's assets file lists every package, transitively).
    /// </summary>
    [Test]
    public void InferencesRestoreClosureHasNoTorchSharp()
    {
        var app = NewApp("inference-only", $"""<PackageReference Include="HArnESS.Inference" Version="{Version}" />""");
        var (code, text) = Run(app, NoNugetPackagesVariable, "restore", "-nologo", "-nodeReuse:false");
        Assert.That(code, Is.EqualTo(0), text);
        using var assets = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        var libraries = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name.Split('/')[0]).ToList();
        Assert.That(libraries, Does.Contain("HArnESS.Inference").And.Contain("Microsoft.ML.OnnxRuntime"));
        Assert.That(libraries.Where(l => l.Contains("torch", StringComparison.OrdinalIgnoreCase) || l.StartsWith("HArnESS.Core", StringComparison.Ordinal)), Is.Empty,
            "HArnESS.Inference's closure: " + string.Join(", ", libraries));
    }

    /// <summary>
    /// The "done when" of issue 8: a new console app outside the repository (its own nuget.config: the packed
    /// packages' folder feed is its only source; what is already in the machine's NuGet cache is used from there)
    /// references all six packages and libtorch-cpu-linux-x64, restores and builds with warnings as errors and none at
    /// all. Every package readme's example is compiled into it. It runs the HArnESS.Core readme's example on a demo
    /// WAV: that example calls <c>torch.randn(3)</c> before any HArnESS call, which works because the package's build
    /// step patched the app's shim. Then the repository README's example, as the README shows it, is the program: it
    /// runs in a folder holding the demo corpus and a tiny teacher this test saved. With the unpatched shim put back,
    /// a TorchSharp-first program must stop with the named cause and fix.
    /// </summary>
    [Test]
    public void ANewConsoleAppBuildsWithoutWarningsAndRunsTheReadmeExamples()
    {
        var app = NewApp("app", string.Join("\n", Packages.Select(id => $"""<PackageReference Include="{id}" Version="{Version}" />"""))
            + "\n" + $"""<PackageReference Include="libtorch-cpu-linux-x64" Version="{LibTorchBackend.ExpectedVersion}" />""");
        foreach (var id in Packages.Where(id => id != "HArnESS.Core"))
            if (PackageReadmeExample(id) is { } example)
                File.WriteAllText(Path.Combine(app, $"Readme.{id}.cs"), AsMethod(id, example));
        File.WriteAllText(Path.Combine(app, "Program.cs"), PackageReadmeExample("HArnESS.Core")!);

        var (buildCode, buildText) = Run(app, NoNugetPackagesVariable, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-warnaserror");
        Assert.That(buildCode, Is.EqualTo(0), buildText);
        Assert.That(buildText, Does.Contain("0 Warning(s)").And.Not.Match(@"warning [A-Z]+\d+"), buildText);

        var output = Path.Combine(app, "bin", "Release", "net10.0");
        var shim = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var original = Path.Combine(RealCache, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(ElfSymbolVersions.Read(shim).Required.Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak, Is.True, "the build patched the app's copy");
        Assert.That(ElfSymbolVersions.Read(original).Required.Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak, Is.False, "and left the NuGet cache alone");

        var wav = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "data", "demo", "wav"), "*.wav", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        long samples = HArnESS.Audio.WavReader.ReadInfo(wav).Frames;
        var runEnvironment = new Dictionary<string, string?>
        {
            [RuntimeOptions.NativeCacheDirectoryVariable] = Path.Combine(_output!.Path, "native-cache"),
            [RuntimeOptions.DeviceVariable] = null,
            [RuntimeOptions.LibTorchDirectoryVariable] = null,
        };
        var (runCode, runText) = Run(app, runEnvironment, Path.Combine(output, "app.dll"), wav);
        Assert.That(runCode, Is.EqualTo(0), runText);
        Assert.That(runText, Does.Contain("torch.randn(3): 3 values"));
        Assert.That(runText, Does.Contain($"libtorch {LibTorchBackend.ExpectedVersion} from {Path.Combine(output, "runtimes", "linux-x64", "native")} (AppPackage)"));
        Assert.That(runText, Does.Contain("[patched at build: GLIBCXX_3.4.32 weak]").And.Not.Contain("[patched: "), "the runtime needed no copy of its own");
        Assert.That(runText, Does.Contain($"last hidden state [1, {Wav2Vec2Frames(samples)}, 64]"), runText);

        // The repository README's "The API in 20 lines", exactly as the README shows it (the test that compares it with
        // Readme/ReadmeExample.cs keeps the two one text), in a folder laid out as it expects.
        File.WriteAllText(Path.Combine(app, "Program.cs"), Readme.ReadmeExample.ReadmeText());
        (buildCode, buildText) = Run(app, NoNugetPackagesVariable, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-warnaserror");
        Assert.That(buildCode, Is.EqualTo(0), buildText);
        Assert.That(buildText, Does.Contain("0 Warning(s)").And.Not.Match(@"warning [A-Z]+\d+"), buildText);
        var work = Path.Combine(_output.Path, "readme-run");
        Readme.ReadmeExample.LayOut(work);
        (runCode, runText) = Run(work, runEnvironment, Path.Combine(output, "app.dll"));
        Assert.That(runCode, Is.EqualTo(0), runText);
        Assert.That(runText, Does.Contain("student: ").And.Contain($"units: {Path.Combine(work, "runs", "targets", "train.km")}"), runText);
        Readme.ReadmeExample.CheckOutputs(work);

        // Without the build-time patch (HArnessPatchTorchSharpShim=false), on a libstdc++ that lacks GLIBCXX_3.4.32,
        // TorchSharp-first fails for the rest of the process; HArnESS must then name the real cause and the fix.
        foreach (var file in Directory.GetFiles(app, "Readme.*.cs")) File.Delete(file);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            try { using var t = TorchSharp.torch.randn(3); Console.WriteLine("torch first: ok"); }
            catch (TypeInitializationException) { Console.WriteLine("torch first: failed"); }
            try { Console.WriteLine($"harness: {HArnESS.Runtime.HArnessRuntime.Initialize()}"); }
            catch (HArnESS.HArnessRuntimeException e) { Console.WriteLine($"harness: {e.GetType().Name}: {e.Message}"); return 3; }
            return 0;
            """);
        File.Copy(original, shim, overwrite: true);
        (buildCode, buildText) = Run(app, NoNugetPackagesVariable, "build", "-c", "Release", "-nologo", "-nodeReuse:false", "-warnaserror", "-p:HArnessPatchTorchSharpShim=false");
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

    /// <summary>The machine's NuGet cache (NUGET_PACKAGES or ~/.nuget/packages).</summary>
    private static string RealCache => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } v
        ? v : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>The child dotnet processes restore into the app's own folder, not the variable's.</summary>
    private static readonly Dictionary<string, string?> NoNugetPackagesVariable = new() { ["NUGET_PACKAGES"] = null };

    /// <summary>A new console app in the temp folder with <paramref name="references"/>, warnings as errors, and a
    /// nuget.config whose only source is the packed packages' folder. Packages already in the machine's cache are used
    /// from it in place (a fallback folder copies nothing); what the app restores new (the packed HArnESS packages)
    /// lands in its own folder, so no run leaves anything behind.</summary>
    private static string NewApp(string name, string references)
    {
        var app = Path.Combine(_output!.Path, name);
        Directory.CreateDirectory(app);
        new XDocument(new XElement("configuration",
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", "packages"))),
            new XElement("fallbackPackageFolders", new XElement("clear"), new XElement("add", new XAttribute("key", "machine"), new XAttribute("value", RealCache))),
            new XElement("packageSources", new XElement("clear"),
                new XElement("add", new XAttribute("key", "packed"), new XAttribute("value", Feed)))))
            .Save(Path.Combine(app, "nuget.config"));
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <AssemblyName>app</AssemblyName>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                {references}
              </ItemGroup>
            </Project>
            """);
        return app;
    }

    /// <summary>A readme example as a method of its own class, so that several compile beside one top-level program:
    /// its using directives stay at the top of the file, the rest is the body (async when it awaits).</summary>
    private static string AsMethod(string id, string example)
    {
        var lines = example.Replace("\r", "").Split('\n');
        var usings = lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(';') && !l.Contains('(') || l.Trim().Length == 0).ToList();
        var body = lines.Skip(usings.Count);
        var isAsync = example.Contains("await ", StringComparison.Ordinal);
        return string.Join("\n", usings) + $$"""

            internal static class Readme_{{id.Replace('.', '_')}}
            {
                public static {{(isAsync ? "async Task" : "void")}} Run()
                {
            {{string.Join("\n", body)}}
                }
            }

            """;
    }

    /// <summary>The first C# block of a package's README.md, the example a package user sees (null when it has none).</summary>
    private static string? PackageReadmeExample(string id)
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, id, "README.md"));
        var m = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.That(m.Success, Is.True, $"{id}/README.md has a csharp example");
        return m.Success ? m.Groups[1].Value : null;
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
