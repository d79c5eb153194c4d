using System.Diagnostics;
using HArnESS.Runtime;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Runtime;

public sealed class NativeLoaderTests
{
    private static string Shim =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Test]
    public void PatchesExactlyWhenTheSystemLibStdCxxLacksTheVersion()
    {
        var (stdcxx, defined) = NativeLoader.SystemLibStdCxx();
        Assert.That(File.Exists(stdcxx), Is.True, stdcxx);
        Assert.That(defined, Does.Contain("GLIBCXX_3.4.30"), "every supported distribution has GCC 12's libstdc++ or newer");

        var native = HArnessRuntime.Current!.Native!;
        var expected = defined.Contains("GLIBCXX_3.4.32") ? Array.Empty<string>() : ["GLIBCXX_3.4.32"];
        Assert.That(native.PatchedVersions, Is.EqualTo(expected));
        if (expected.Length > 0)
        {
            Assert.That(native.LibTorchSharpPath, Is.Not.EqualTo(Shim));
            Assert.That(ElfSymbolVersions.Read(native.LibTorchSharpPath).Required.Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak, Is.True);
        }
    }

    [Test]
    public void TheShimItselfNeedsTheVersionThatIsPatched()
    {
        // Guards the premise: should a later TorchSharp drop the requirement, this test says the patch is obsolete.
        var requirement = ElfSymbolVersions.Read(Shim).Required.Single(r => r.Name == "GLIBCXX_3.4.32");
        Assert.That(requirement.File, Is.EqualTo("libstdc++.so.6"));
        Assert.That(requirement.IsWeak, Is.False);
    }

    [Test]
    public void PatchedCopyIsCachedByHashAndSafeUnderConcurrentStarts()
    {
        using var cache = TestPaths.NewTempDirectory();
        var paths = new string[8];
        Parallel.For(0, paths.Length, i => paths[i] = NativeLoader.PatchedCopy(Shim, ["GLIBCXX_3.4.32"], cache.Path));

        Assert.That(paths.Distinct().Count(), Is.EqualTo(1));
        var folder = Path.GetDirectoryName(paths[0])!;
        Assert.That(Path.GetDirectoryName(folder), Is.EqualTo(cache.Path));
        Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { paths[0] }), "no temporary file may be left behind");
        Assert.That(new FileInfo(paths[0]).Length, Is.EqualTo(new FileInfo(Shim).Length));
        Assert.That(ElfSymbolVersions.Read(paths[0]).Required.Single(r => r.Name == "GLIBCXX_3.4.32").IsWeak, Is.True);
    }

    [Test]
    public void AnUnwritableCacheGivesANamedError()
    {
        using var tmp = TestPaths.NewTempDirectory();
        var blocker = tmp.File("a-file");
        File.WriteAllText(blocker, "not a folder");
        var e = Assert.Throws<HArnessRuntimeException>(() => NativeLoader.PatchedCopy(Shim, ["GLIBCXX_3.4.32"], blocker));
        Assert.That(e!.Message, Does.Contain(blocker).And.Contain(RuntimeOptions.NativeCacheDirectoryVariable));
    }

    [Test]
    public void TwoFreshProcessesStartAtOnceWithAnEmptyCache()
    {
        using var cache = TestPaths.NewTempDirectory();
        var quickstart = Path.Combine(AppContext.BaseDirectory, "Quickstart.dll");
        Assert.That(File.Exists(quickstart), Is.True, $"the Quickstart sample is built beside the tests: {quickstart}");

        var processes = Enumerable.Range(0, 2).Select(_ =>
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(quickstart);
            psi.ArgumentList.Add("--runtime-only");
            psi.Environment[RuntimeOptions.NativeCacheDirectoryVariable] = cache.Path;
            psi.Environment[RuntimeOptions.DeviceVariable] = "cpu";
            return Process.Start(psi)!;
        }).ToList();

        foreach (var p in processes)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.That(p.WaitForExit(120_000), Is.True, "the process must finish");
            Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result);
            Assert.That(stdout.Result, Does.Contain("libtorch 2.10.0").And.Contain("device cpu").And.Contain("sum=6"));
        }
    }
}
