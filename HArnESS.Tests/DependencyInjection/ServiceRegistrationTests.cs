using HArnESS.DependencyInjection;
using HArnESS.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.DependencyInjection;

public sealed class ServiceRegistrationTests
{
    [Test]
    public void AddHArnessCoreStartsTheRuntimeWithTheConfiguredOptions()
    {
        var before = HArnessRuntime.Current;
        using var random = RuntimeState.PreserveRandomState(); // the registration seeds the global generator
        try
        {
            var services = new ServiceCollection().AddHArnessCore(o => o with { Device = ComputeDevice.Cpu, Seed = 1234 });
            using var provider = services.BuildServiceProvider();
            var info = provider.GetRequiredService<RuntimeInfo>();
            Assert.That(info.Device.type, Is.EqualTo(DeviceType.CPU));
            Assert.That(info.Seed, Is.EqualTo(1234));
            Assert.That(provider.GetRequiredService<IOptions<RuntimeOptions>>().Value.Device, Is.EqualTo(ComputeDevice.Cpu));
            Assert.That(provider.GetRequiredService<RuntimeOptions>(), Is.SameAs(provider.GetRequiredService<IOptions<RuntimeOptions>>().Value));
        }
        finally
        {
            RuntimeState.Restore(before);
        }
    }

    [Test]
    public void SeveralConfigureCallsComposeInOrder()
    {
        var services = new ServiceCollection()
            .AddHArnessCore(o => o with { Threads = 3, Seed = 1 })
            .AddHArnessCore(o => o with { Seed = o.Seed + 1 });
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<RuntimeOptions>>().Value;
        Assert.That((options.Threads, options.Seed), Is.EqualTo((3, 2L)));
    }

    [Test]
    public void ValidateOnStartReportsEveryInvalidOptionAtOnce()
    {
        using var provider = new ServiceCollection()
            .AddHArnessCore(o => o with { Threads = -2, DefaultDType = torch.ScalarType.Int32 })
            .BuildServiceProvider();
        // What a host does at start (ValidateOnStart); nothing has touched the options or the runtime yet.
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(e!.OptionsType, Is.EqualTo(typeof(RuntimeOptions)));
        Assert.That(e.Failures, Has.Exactly(1).StartWith("Threads:").And.Exactly(1).StartWith("DefaultDType:"));
        Assert.That(() => provider.GetRequiredService<RuntimeInfo>(), Throws.TypeOf<OptionsValidationException>().With.Message.Contain("Threads"));
    }

    [Test]
    public void TheValidatorCallsTheOptionsOwnValidation()
    {
        var result = new RuntimeOptionsValidator().Validate(null, new RuntimeOptions { Threads = 0, Device = ComputeDevice.Cuda(-1) });
        Assert.That(result.Failed, Is.True);
        Assert.That(result.Failures, Has.Exactly(1).StartWith("Threads:").And.Exactly(1).StartWith("Device:"));
        Assert.That(new RuntimeOptionsValidator().Validate(null, new RuntimeOptions()).Succeeded, Is.True);
    }

    [Test]
    public void TheContainersLoggerFactoryIsUsedWhenTheOptionsChooseNone()
    {
        using var factory = new RecordingLoggerFactory();
        var services = new ServiceCollection().AddSingleton<ILoggerFactory>(factory).AddHArnessCore();
        using var provider = services.BuildServiceProvider();
        Assert.That(provider.GetRequiredService<RuntimeOptions>().LoggerFactory, Is.SameAs(factory));

        using var own = new ServiceCollection().AddSingleton<ILoggerFactory>(factory)
            .AddHArnessCore(o => o with { LoggerFactory = NullLoggerFactory.Instance }).BuildServiceProvider();
        Assert.That(own.GetRequiredService<RuntimeOptions>().LoggerFactory, Is.SameAs(factory),
            "NullLoggerFactory is the default, so it reads as 'none chosen'");
    }
}
