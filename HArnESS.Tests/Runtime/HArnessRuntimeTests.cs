using HArnESS.Runtime;
using Microsoft.Extensions.Logging;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Runtime;

public sealed class HArnessRuntimeTests
{
    [Test]
    public void TorchSharpRunsAfterInitialisation()
    {
        Assert.That(HArnessRuntime.Current, Is.Not.Null);
        using var x = torch.arange(1, 4, dtype: torch.float32);
        Assert.That(x.sum().item<float>(), Is.EqualTo(6f));
        Assert.That(HArnessRuntime.Device.type, Is.EqualTo(DeviceType.CPU));
    }

    [Test]
    public void TheSeedMakesRunsRepeat()
    {
        using var _ = RuntimeState.PreserveRandomState();
        HArnessRuntime.SeedAll(42);
        using var a = torch.randn(16);
        HArnessRuntime.SeedAll(42);
        using var b = torch.randn(16);
        HArnessRuntime.SeedAll(43);
        using var c = torch.randn(16);
        Assert.That(a.allclose(b, rtol: 0, atol: 0), Is.True);
        Assert.That(a.allclose(c, rtol: 0, atol: 0), Is.False);
    }

    [Test]
    public void ReinitialisingAppliesThreadsAndDType()
    {
        var before = RuntimeState.Capture();
        try
        {
            var info = HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Threads = 1, DefaultDType = torch.ScalarType.Float64 });
            Assert.That(info.Threads, Is.EqualTo(1));
            using var t = torch.zeros(2);
            Assert.That(t.dtype, Is.EqualTo(torch.ScalarType.Float64));
        }
        finally
        {
            RuntimeState.Restore(before);
        }
        Assert.That(torch.get_default_dtype(), Is.EqualTo(before.DefaultDType));
        Assert.That(torch.get_num_threads(), Is.EqualTo(before.Threads));
    }

    [Test]
    public void InvalidOptionsAreReportedTogether()
    {
        var e = Assert.Throws<HArnessValidationException>(() => new RuntimeOptions
        {
            Threads = 0, DefaultDType = torch.ScalarType.Int64, Device = ComputeDevice.Cuda(-1), LibTorchDirectory = " ",
        }.Validate());
        Assert.That(e!.Errors.Select(x => x.Option), Is.EquivalentTo(new[] { "Threads", "DefaultDType", "Device", "LibTorchDirectory" }));
        Assert.That(e.Message, Does.Contain("Int64").And.Contain("cuda").IgnoreCase);
    }

    [Test]
    public void StartUpIsLoggedThroughTheOptionsLoggerFactory()
    {
        var before = RuntimeState.Capture();
        using var factory = new RecordingLoggerFactory();
        try
        {
            HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, LoggerFactory = factory });
        }
        finally
        {
            RuntimeState.Restore(before);
        }
        var entry = factory.Entries.Single(e => e.Message.StartsWith("HArnESS runtime:", StringComparison.Ordinal));
        Assert.That(entry.Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Information));
        Assert.That(entry.Message, Does.Contain("(AppPackage)").And.Contain("device cpu"));
        Assert.That(factory.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning), Is.Empty, "the test host carries its backend");
    }

    [Test]
    public void ACacheBackendIsLoggedAsAWarning()
    {
        using var factory = new RecordingLoggerFactory();
        var backend = new LibTorchBackend("/cache/libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native", "2.10.0", "NuGet package", false)
        {
            Source = LibTorchSource.NuGetCache,
        };
        var info = HArnessRuntime.Current! with { Native = new NativeLoadReport(backend, "/x/libLibTorchSharp.so", ["GLIBCXX_3.4.32"]) };
        Assert.That(info.LibTorchSource, Is.EqualTo(LibTorchSource.NuGetCache));
        HArnessRuntime.LogState(factory.CreateLogger("t"), info);
        var warning = factory.Entries.Single(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.That(warning.Message, Does.Contain("NuGet cache").And.Contain(backend.Directory).And.Contain("libtorch-cpu-linux-x64").And.Contain("AllowNuGetCache"));
        Assert.That(info.ToString(), Does.Contain("(NuGetCache)").And.Contain("patched: GLIBCXX_3.4.32"));
    }

    [Test]
    public void ForbiddingTheCacheAfterAnAppPackageStartChangesNothing()
    {
        var before = RuntimeState.Capture();
        try
        {
            Assert.That(HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, AllowNuGetCache = false }).LibTorchSource,
                Is.EqualTo(LibTorchSource.AppPackage));
        }
        finally
        {
            RuntimeState.Restore(before);
        }
    }

    [Test]
    public void InvalidOptionsAreNamed()
    {
        Assert.That(() => HArnessRuntime.Initialize(new RuntimeOptions { Threads = 0 }),
            Throws.InstanceOf<HArnessConfigException>().With.Property(nameof(HArnessConfigException.OptionName)).EqualTo("Threads"));
        Assert.That(() => HArnessRuntime.Initialize(new RuntimeOptions { DefaultDType = torch.ScalarType.Int32 }),
            Throws.InstanceOf<HArnessConfigException>().With.Message.Contain("DefaultDType"));
        Assert.That(() => HArnessRuntime.Initialize(new RuntimeOptions { LibTorchDirectory = "/somewhere/else" }),
            Throws.TypeOf<HArnessConfigException>().With.Message.Contain("/somewhere/else"));
    }

    [Test]
    public void CudaWithoutAGpuIsAClearError()
    {
        if (torch.cuda.is_available())
        {
            Assert.That(ComputeDevice.Cuda(0).Resolve().type, Is.EqualTo(DeviceType.CUDA));
            return;
        }
        Assert.That(() => ComputeDevice.Cuda(0).Resolve(), Throws.TypeOf<HArnessConfigException>().With.Message.Contain("CUDA"));
        Assert.That(ComputeDevice.Auto.Resolve().type, Is.EqualTo(DeviceType.CPU));
    }

    [TestCase("auto", ComputeDeviceKind.Auto, 0)]
    [TestCase("CPU", ComputeDeviceKind.Cpu, 0)]
    [TestCase("cuda", ComputeDeviceKind.Cuda, 0)]
    [TestCase("cuda:3", ComputeDeviceKind.Cuda, 3)]
    public void ParsesDevices(string text, ComputeDeviceKind kind, int index) =>
        Assert.That(ComputeDevice.Parse(text), Is.EqualTo(new ComputeDevice(kind, index)));

    [TestCase("gpu")]
    [TestCase("cuda:-1")]
    [TestCase("cuda:x")]
    public void RejectsUnknownDevices(string text) =>
        Assert.That(() => ComputeDevice.Parse(text), Throws.TypeOf<HArnessConfigException>().With.Message.Contain(text));
}
