using HArnESS.Downstream;
using NUnit.Framework;

namespace HArnESS.Tests.Downstream;

public sealed class LayeringTests
{
    [Test]
    public void DownstreamReferencesCoreButNotDistillation()
    {
        // CONTRIBUTING.md: Core ← Downstream; Downstream never references Distillation (issue 9 §3).
        var refs = typeof(DownstreamAssembly).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToArray();
        Assert.That(refs, Does.Contain("HArnESS.Core"));
        Assert.That(refs, Does.Not.Contain("HArnESS.Distillation"));
        Assert.That(typeof(DownstreamAssembly).Assembly.GetExportedTypes().Select(t => t.Namespace).Distinct(),
            Has.All.StartWith("HArnESS.Downstream"));
    }
}
