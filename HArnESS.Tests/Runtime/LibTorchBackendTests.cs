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

    private static string FakeLib(string root)
    {
        var lib = Path.Combine(root, "lib");
        Directory.CreateDirectory(lib);
        foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" }) File.WriteAllText(Path.Combine(lib, name), "");
        return lib;
    }
}
