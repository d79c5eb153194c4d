using NUnit.Framework;
using HArnESS.Distillation.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Targets;

public sealed class MiniBatchKMeansTests
{
    private int _threads;

    // Many tiny ops: one intra-op thread avoids OpenMP spin contention on the shared 2-core machine.
    [OneTimeSetUp]
    public void OneThread()
    {
        _threads = torch.get_num_threads();
        torch.set_num_threads(1);
    }

    [OneTimeTearDown]
    public void RestoreThreads() => torch.set_num_threads(_threads);

    [Test]
    public void SyntheticFeaturesMatchThePythonGeneratorBitForBit()
    {
        var fx = KMeansFixture.Load();
        using var x = KMeansFixture.Data(fx);
        var check = fx.GetProperty("data_check");
        using var sum = x.to(ScalarType.Float64).sum();
        Assert.That(sum.item<double>(), Is.EqualTo(check.GetProperty("sum").GetDouble()).Within(1e-6));
        var first = check.GetProperty("first").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        var last = check.GetProperty("last").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Assert.That(x[0].narrow(0, 0, 5).data<float>().ToArray(), Is.EqualTo(first));
        Assert.That(x[-1].narrow(0, x.shape[1] - 5, 5).data<float>().ToArray(), Is.EqualTo(last));
    }

    [Test]
    public void InertiaIsWithinOnePercentOfSklearnMiniBatchKMeans()
    {
        var fx = KMeansFixture.Load();
        using var x = KMeansFixture.Data(fx);
        var s = fx.GetProperty("settings");
        var ours = new List<double>();
        foreach (var seed in Enumerable.Range(0, fx.GetProperty("runs").GetArrayLength()))
        {
            var km = new MiniBatchKMeans(new KMeansOptions
            {
                Clusters = s.GetProperty("n_clusters").GetInt32(),
                BatchSize = s.GetProperty("batch_size").GetInt32(),
                MaxIter = s.GetProperty("max_iter").GetInt32(),
                MaxNoImprovement = s.GetProperty("max_no_improvement").GetInt32(),
                NInit = s.GetProperty("n_init").GetInt32(),
                Seed = seed,
            }, torch.CPU);
            using var fit = km.Fit(x).Codebook;
            ours.Add(fit.PredictWithInertia(x).Inertia);
        }
        var sk = fx.GetProperty("mean_inertia").GetDouble();
        var ratio = ours.Average() / sk;
        TestContext.Out.WriteLine($"mean inertia ours {ours.Average():F1} [{string.Join(", ", ours.Select(v => v.ToString("F0")))}], sklearn {sk:F1}, ratio {ratio:F4}");
        Assert.That(ratio, Is.LessThanOrEqualTo(1.01));
    }
}
