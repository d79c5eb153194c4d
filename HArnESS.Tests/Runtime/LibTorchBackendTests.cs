using HArnESS.Runtime;
using NUnit.Framework;

namespace HArnESS.Tests.Runtime;

public sealed class LibTorchBackendTests
{
    [Test]
    public void TheTestHostFindsItsBackendPackageAndItsVersion()
    {
        var backend = LibTorchBackend.Locate(null);
        Assert.That(backend.Version, Is.EqualTo("2.10.0"));
        Assert.That(backend.VersionSource, Does.Contain("libtorch-cpu-linux-x64"));
        Assert.That(backend.MatchesTorchSharp, Is.True);
        Assert.That(backend.HasCuda, Is.False);
    }

    [Test]
    public void ReadsTheVersionOfALibTorchZipAndOfAPyTorchInstall()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var zipLib = FakeLib(tmp.File("libtorch"));
        File.WriteAllText(tmp.File("libtorch/build-version"), "2.10.0+cu128\n");
        Assert.That(LibTorchBackend.Locate(zipLib).Version, Is.EqualTo("2.10.0+cu128"));

        var torchLib = FakeLib(tmp.File("site-packages/torch"));
        File.WriteAllText(tmp.File("site-packages/torch/version.py"), "__version__ = '2.11.0+cu130'\ngit_version = 'abc'\n");
        var backend = LibTorchBackend.Locate(torchLib);
        Assert.That(backend.Version, Is.EqualTo("2.11.0+cu130"));
        Assert.That(backend.MatchesTorchSharp, Is.False);
    }

    [Test]
    public void RefusesAMismatchedVersionUnlessAllowed()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var lib = FakeLib(tmp.File("torch"));
        File.WriteAllText(tmp.File("torch/version.py"), "__version__ = '2.11.0+cu130'\n");
        var backend = LibTorchBackend.Locate(lib);
        var e = Assert.Throws<HArnessRuntimeException>(() => backend.EnsureMatchesTorchSharp(allowMismatch: false));
        Assert.That(e!.Message, Does.Contain("2.11.0+cu130").And.Contain(lib).And.Contain("2.10"));
        Assert.DoesNotThrow(() => backend.EnsureMatchesTorchSharp(allowMismatch: true));
        Assert.DoesNotThrow(() => (backend with { Version = null }).EnsureMatchesTorchSharp(allowMismatch: false));
    }

    [Test]
    public void ANamedFolderWithoutLibTorchIsRefusedByName()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var e = Assert.Throws<HArnessRuntimeException>(() => LibTorchBackend.Locate(tmp.Path));
        Assert.That(e!.Message, Does.Contain(tmp.Path).And.Contain("libtorch_cpu.so"));
    }

    [Test]
    public void DetectsACudaBuild()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var lib = FakeLib(tmp.File("torch"));
        File.WriteAllText(Path.Combine(lib, "libtorch_cuda.so"), "");
        Assert.That(LibTorchBackend.Locate(lib).HasCuda, Is.True);
    }

    [Test]
    public void TheTestHostsBackendIsTheAppPackage() =>
        Assert.That(HArnessRuntime.Current!.LibTorchSource, Is.EqualTo(LibTorchSource.AppPackage));

    [Test]
    public void CacheVersionsCompareAsVersionsAndPreferTheOneTorchSharpNeeds()
    {
        using var tmp = TestPaths.NewTempDirectory();
        foreach (var v in new[] { "2.5.1", "2.9.0", "2.10.0", "2.10.1-rc1", "2.11.0", "not-a-version" }) FakePackage(tmp.Path, "libtorch-cpu-linux-x64", v);
        var found = LibTorchBackend.FromNuGetCache([tmp.Path])!;
        Assert.That(found.Version, Is.EqualTo("2.10.0"), "exactly what TorchSharp 0.107 needs, though 2.11.0 is higher and '2.5.1' > '2.10.0' as strings");
        Assert.That(found.Source, Is.EqualTo(LibTorchSource.NuGetCache));
        Assert.That(found.Directory, Is.EqualTo(Path.Combine(tmp.Path, "libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native")));
        Assert.That(found.VersionSource, Does.Contain("libtorch-cpu-linux-x64").And.Contain(tmp.Path));
    }

    [Test]
    public void WithoutTheExactVersionTheHighestOfTheSameMinorWinsThenTheHighestOverall()
    {
        using var tmp = TestPaths.NewTempDirectory();
        foreach (var v in new[] { "2.5.1", "2.10.2", "2.10.10-rc1", "2.10.9", "2.9.9" }) FakePackage(tmp.Path, "libtorch-cpu-linux-x64", v);
        Assert.That(LibTorchBackend.FromNuGetCache([tmp.Path])!.Version, Is.EqualTo("2.10.10-rc1"));

        using var other = TestPaths.NewTempDirectory();
        foreach (var v in new[] { "2.5.1", "2.9.0", "2.11.0" }) FakePackage(other.Path, "libtorch-cpu-linux-x64", v);
        var found = LibTorchBackend.FromNuGetCache([other.Path])!;
        Assert.That(found.Version, Is.EqualTo("2.11.0"));
        Assert.That(() => found.EnsureMatchesTorchSharp(allowMismatch: false), Throws.TypeOf<HArnessRuntimeException>().With.Message.Contain("2.11.0"));
    }

    [Test]
    public void AMatchingVersionInALaterFolderBeatsAMismatchInAnEarlierOne()
    {
        using var first = TestPaths.NewTempDirectory();
        using var second = TestPaths.NewTempDirectory();
        FakePackage(first.Path, "libtorch-cpu-linux-x64", "2.5.1");
        FakePackage(second.Path, "libtorch-cpu-linux-x64", "2.10.0");
        FakePackage(second.Path, "libtorch-cuda-12.8-linux-x64", "2.10.0", cuda: true);
        var found = LibTorchBackend.FromNuGetCache([first.Path, second.Path])!;
        Assert.That((found.Version, found.HasCuda), Is.EqualTo(("2.10.0", true)), "CUDA before CPU at the same version");
        Assert.That(LibTorchBackend.FromNuGetCache([first.Path])!.Version, Is.EqualTo("2.5.1"));
        Assert.That(LibTorchBackend.FromNuGetCache([Path.Combine(first.Path, "missing")]), Is.Null);
    }

    [Test]
    public void NuGetFoldersComeFromTheVariableTheNearestConfigAndTheDefault()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var home = tmp.File("home");
        var project = tmp.File("repo/src/app");
        Directory.CreateDirectory(project);
        WriteConfig(tmp.File("repo/nuget.config"), """<add key="globalPackagesFolder" value="../shared-packages" />""");
        WriteConfig(tmp.File("repo/src/NuGet.Config"), """<add key="globalPackagesFolder" value="near" />""");

        var folders = NuGetPackageFolders.Find(null, [project], home);
        Assert.That(folders.Select(f => f.Path), Is.EqualTo(new[] { tmp.File("repo/src/near"), Path.Combine(home, ".nuget", "packages") }),
            "the nearest config wins; relative values are relative to their file");
        Assert.That(folders[0].Origin, Does.Contain(tmp.File("repo/src/NuGet.Config")));

        var withVariable = NuGetPackageFolders.Find(tmp.File("env-packages"), [project], home);
        Assert.That(withVariable[0].Path, Is.EqualTo(tmp.File("env-packages")));
        Assert.That(withVariable[0].Origin, Is.EqualTo("NUGET_PACKAGES"));

        // A <clear /> in the nearest file's <config> hides the farther files' settings.
        WriteConfig(tmp.File("repo/src/NuGet.Config"), "<clear />");
        Assert.That(NuGetPackageFolders.Find(null, [project], home).Select(f => f.Path), Is.EqualTo(new[] { Path.Combine(home, ".nuget", "packages") }));

        // Without one nearby, the user config counts; an unreadable file is skipped.
        File.Delete(tmp.File("repo/src/NuGet.Config"));
        File.WriteAllText(tmp.File("repo/nuget.config"), "<configuration><config><add key=");
        WriteConfig(Path.Combine(home, ".nuget", "NuGet", "NuGet.Config"), """<add key="globalPackagesFolder" value="/opt/nuget-packages" />""");
        Assert.That(NuGetPackageFolders.Find(null, [project], home)[0].Path, Is.EqualTo("/opt/nuget-packages"));
    }

    [Test]
    public void LocateFallsBackToTheConfiguredCacheOnlyWhenAllowed()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var app = tmp.File("app");
        Directory.CreateDirectory(app);
        var packages = tmp.File("configured-packages");
        FakePackage(packages, "libtorch-cpu-linux-x64", "2.5.1");
        FakePackage(packages, "libtorch-cpu-linux-x64", "2.10.0");
        WriteConfig(tmp.File("nuget.config"), """<add key="globalPackagesFolder" value="configured-packages" />""");
        IReadOnlyList<NuGetPackageFolders.Candidate> Folders() => NuGetPackageFolders.Find(null, [app], tmp.File("no-home"));

        var found = LibTorchBackend.Locate(null, allowNuGetCache: true, environmentDirectory: null, app, Folders);
        Assert.That((found.Source, found.Version), Is.EqualTo((LibTorchSource.NuGetCache, "2.10.0")));
        Assert.That(found.Directory, Does.StartWith(packages));

        var e = Assert.Throws<HArnessRuntimeException>(() => LibTorchBackend.Locate(null, allowNuGetCache: false, environmentDirectory: null, app, Folders));
        Assert.That(e!.Message, Does.Contain("AllowNuGetCache").And.Contain("libtorch-cpu-linux-x64").And.Contain(app));

        var none = Assert.Throws<HArnessRuntimeException>(() => LibTorchBackend.Locate(null, true, null, app, () => NuGetPackageFolders.Find(null, [], tmp.File("no-home"))));
        Assert.That(none!.Message, Does.Contain("No libtorch found").And.Contain(tmp.File("no-home")));
    }

    [Test]
    public void LocateNamesWhereTheFolderCameFrom()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var lib = FakeLib(tmp.File("torch"));
        var app = tmp.File("app");
        Assert.That(LibTorchBackend.Locate(lib, true, null, app, () => []).Source, Is.EqualTo(LibTorchSource.Option));
        Assert.That(LibTorchBackend.Locate(null, true, lib, app, () => []).Source, Is.EqualTo(LibTorchSource.EnvironmentVariable));
        var fromApp = FakeLib(tmp.File("app/runtimes/linux-x64"));
        Assert.That(fromApp, Is.EqualTo(tmp.File("app/runtimes/linux-x64/lib")));
        Directory.Move(fromApp, tmp.File("app/runtimes/linux-x64/native"));
        var packaged = LibTorchBackend.Locate(null, allowNuGetCache: false, null, app, () => []);
        Assert.That((packaged.Source, packaged.Directory), Is.EqualTo((LibTorchSource.AppPackage, tmp.File("app/runtimes/linux-x64/native"))));
    }

    private static void FakePackage(string root, string package, string version, bool cuda = false)
    {
        var native = Path.Combine(root, package, version, "runtimes", "linux-x64", "native");
        Directory.CreateDirectory(native);
        foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" }.Concat(cuda ? ["libtorch_cuda.so"] : []))
            File.WriteAllText(Path.Combine(native, name), "");
    }

    private static void WriteConfig(string path, string configBody)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <config>\n    {configBody}\n  </config>\n</configuration>\n");
    }

    private static string FakeLib(string root)
    {
        var lib = Path.Combine(root, "lib");
        Directory.CreateDirectory(lib);
        foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" }) File.WriteAllText(Path.Combine(lib, name), "");
        return lib;
    }
}
