using HArnESS.Downstream;
using HArnESS.Downstream.DependencyInjection;
using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Upstream;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace HArnESS.Tests.Downstream;

public sealed class DownstreamServiceRegistrationTests
{
    [Test]
    public void RegistersValidatedOptionsAndTheirSections()
    {
        using var provider = new ServiceCollection()
            .AddHArnessDownstream(o => o with { Dcf = new DcfOptions { TargetPrior = 0.05 }, Upstream = new UpstreamOptions { Training = UpstreamTraining.Full } })
            .BuildServiceProvider();
        Assert.That(provider.GetRequiredService<DcfOptions>().TargetPrior, Is.EqualTo(0.05));
        Assert.That(provider.GetRequiredService<UpstreamOptions>().Training, Is.EqualTo(UpstreamTraining.Full));
        Assert.That(provider.GetRequiredService<DownstreamOptions>().Beam, Is.Null);
    }

    [Test]
    public void InvalidSectionsAreReportedTogetherWithTheirPrefix()
    {
        using var provider = new ServiceCollection()
            .AddHArnessDownstream(o => o with { Dcf = new DcfOptions { CostMiss = 0 }, Scoring = new() { CohortTopK = 1 } })
            .BuildServiceProvider();
        var ex = Assert.Throws<HArnessValidationException>(() => provider.GetRequiredService<DownstreamOptions>());
        Assert.That(ex!.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "Scoring.CohortTopK", "Dcf.CostMiss" }));
    }
}
