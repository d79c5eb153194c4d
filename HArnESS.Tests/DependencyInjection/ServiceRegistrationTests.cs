using HArnESS.DependencyInjection;
using HArnESS.Runtime;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.DependencyInjection;

public sealed class ServiceRegistrationTests
{
    [Test]
    public void AddHArnessCoreStartsTheRuntimeWithTheConfiguredOptions()
    {
        var services = new ServiceCollection().AddHArnessCore(o => o with { Device = ComputeDevice.Cpu, Seed = 1234 });
        using var provider = services.BuildServiceProvider();
        var info = provider.GetRequiredService<RuntimeInfo>();
        Assert.That(info.Device.type, Is.EqualTo(DeviceType.CPU));
        Assert.That(info.Seed, Is.EqualTo(1234));
        Assert.That(provider.GetRequiredService<RuntimeOptions>().Device, Is.EqualTo(ComputeDevice.Cpu));
    }

    [Test]
    public void InvalidOptionsFailOnResolution()
    {
        using var provider = new ServiceCollection().AddHArnessCore(o => o with { Threads = -2 }).BuildServiceProvider();
        Assert.That(() => provider.GetRequiredService<RuntimeInfo>(), Throws.TypeOf<HArnessConfigException>().With.Message.Contain("Threads"));
    }
}
