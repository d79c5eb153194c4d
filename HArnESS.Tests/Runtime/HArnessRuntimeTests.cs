using HArnESS.Runtime;
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
        try
        {
            var info = HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Threads = 1, DefaultDType = torch.ScalarType.Float64 });
            Assert.That(info.Threads, Is.EqualTo(1));
            using var t = torch.zeros(2);
            Assert.That(t.dtype, Is.EqualTo(torch.ScalarType.Float64));
        }
        finally
        {
            HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Cpu, Seed = 1234, Threads = Environment.ProcessorCount });
        }
    }

    [Test]
    public void InvalidOptionsAreNamed()
    {
        Assert.That(() => HArnessRuntime.Initialize(new RuntimeOptions { Threads = 0 }),
            Throws.TypeOf<HArnessConfigException>().With.Property(nameof(HArnessConfigException.OptionName)).EqualTo("Threads"));
        Assert.That(() => HArnessRuntime.Initialize(new RuntimeOptions { DefaultDType = torch.ScalarType.Int32 }),
            Throws.TypeOf<HArnessConfigException>().With.Message.Contain("DefaultDType"));
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
