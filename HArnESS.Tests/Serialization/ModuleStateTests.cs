using HArnESS.Runtime;
using HArnESS.Serialization;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Serialization;

[TestFixture]
public sealed class ModuleStateTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir()
    {
        HArnessRuntime.EnsureInitialized();
        _dir = Path.Combine(Path.GetTempPath(), "harness-modstate-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, recursive: true);

    // Linear + BatchNorm: parameters and buffers (running statistics, an int64 batch counter).
    private static nn.Module<Tensor, Tensor> Net(int hidden = 4, int seed = 1)
    {
        random.manual_seed(seed);
        return nn.Sequential(("proj", nn.Linear(3, hidden)), ("norm", nn.BatchNorm1d(hidden)), ("out", nn.Linear(hidden, 2)));
    }

    private static Dictionary<string, float[]> Values(nn.Module m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float32).flatten().data<float>().ToArray());

    [Test]
    public void RoundTripsParametersAndBuffersExactly()
    {
        using var a = Net(seed: 1);
        using (var x = randn(8, 3)) a.forward(x).Dispose(); // training step: running statistics move off their defaults
        a.eval();
        var path = Path.Combine(_dir, "a.safetensors");
        ModuleState.Save(path, a, new Dictionary<string, string> { ["step"] = "7" });

        using var b = Net(seed: 2);
        b.eval();
        var report = ModuleState.Load(path, b);
        Assert.That(report.IsClean, Is.True, report.Describe());
        Assert.That(report.Loaded, Is.EqualTo(a.state_dict().Count));
        Assert.That(Values(b), Is.EqualTo(Values(a)));
        using var input = randn(5, 3);
        using var ya = a.forward(input);
        using var yb = b.forward(input);
        Assert.That(ya.equal(yb).all().item<bool>(), Is.True);
        using var file = SafeTensors.Open(path);
        Assert.That(file.Metadata["step"], Is.EqualTo("7"));
        Assert.That(file.Keys, Does.Contain("norm.running_mean").And.Contain("norm.num_batches_tracked"));
    }

    [Test]
    public void StrictLoadRefusesAMismatchNamingEveryKeyAndChangesNothing()
    {
        using var small = Net(hidden: 4, seed: 1);
        var path = Path.Combine(_dir, "small.safetensors");
        ModuleState.Save(path, small);
        using var big = Net(hidden: 5, seed: 2);
        var before = Values(big);
        var e = Assert.Throws<HArnessCheckpointException>(() => ModuleState.Load(path, big))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain("proj.weight: model [5, 3], checkpoint [4, 3]").And.Contain("norm.running_var"));
        Assert.That(e.FilePath, Is.EqualTo(path));
        Assert.That(Values(big), Is.EqualTo(before));
    }

    [Test]
    public void LenientLoadCopiesWhatFitsAndReportsTheRest()
    {
        using var src = Net(hidden: 4, seed: 1);
        var sd = src.state_dict();
        using var extra = ones(2);
        var partial = new Dictionary<string, Tensor>(sd.Where(kv => kv.Key != "out.bias")) { ["head.scale"] = extra };
        using var wrong = zeros(9);
        partial["norm.weight"] = wrong;
        using var dst = Net(hidden: 4, seed: 2);
        var before = Values(dst);
        var report = ModuleState.Load(dst, partial, strict: false, source: "memory");
        Assert.That(report.Missing, Is.EqualTo(new[] { "out.bias" }));
        Assert.That(report.Unexpected, Is.EqualTo(new[] { "head.scale" }));
        Assert.That(report.MisShaped.Select(m => m.Key), Is.EqualTo(new[] { "norm.weight" }));
        Assert.That(report.Loaded, Is.EqualTo(sd.Count - 2));
        var after = Values(dst);
        Assert.That(after["proj.weight"], Is.EqualTo(Values(src)["proj.weight"]));
        Assert.That(after["out.bias"], Is.EqualTo(before["out.bias"]));
        Assert.That(after["norm.weight"], Is.EqualTo(before["norm.weight"]));
    }
}
