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

    private static Tensor Small(int rows = 3000) => SyntheticFeatures.Generate(99, rows, 12, 10, 2.0);

    private static KMeansOptions Quick => new() { Clusters = 8, BatchSize = 256, NInit = 3, MaxIter = 30, Seed = 5 };

    [Test]
    public void TheSameSeedRepeatsExactlyAndAnotherSeedDiffers()
    {
        using var x = Small();
        using var a = new MiniBatchKMeans(Quick, torch.CPU).Fit(x).Codebook;
        using var b = new MiniBatchKMeans(Quick, torch.CPU).Fit(x).Codebook;
        using var c = new MiniBatchKMeans(Quick with { Seed = 6 }, torch.CPU).Fit(x).Codebook;
        Assert.That(a.Centers.data<float>().ToArray(), Is.EqualTo(b.Centers.data<float>().ToArray()));
        Assert.That(a.Centers.data<float>().ToArray(), Is.Not.EqualTo(c.Centers.data<float>().ToArray()));
    }

    [Test]
    public void StreamedFitReachesTheInMemoryInertiaAndRepeats()
    {
        using var x = Small();
        var memory = new MiniBatchKMeans(Quick, torch.CPU).Fit(x);
        var source = new TensorFeatureSource(x, chunkRows: 700);
        var streamed = new MiniBatchKMeans(Quick, torch.CPU).Fit(source);
        var again = new MiniBatchKMeans(Quick, torch.CPU).Fit(source);
        TestContext.Out.WriteLine($"in-memory {memory.Inertia:F1}, streamed {streamed.Inertia:F1}");
        Assert.That(streamed.Rows, Is.EqualTo(3000));
        Assert.That(streamed.Inertia, Is.LessThanOrEqualTo(1.02 * memory.Inertia));
        Assert.That(again.Inertia, Is.EqualTo(streamed.Inertia));
        // the reported inertia is the exact full-data inertia of the returned centres
        Assert.That(streamed.Codebook.PredictWithInertia(x).Inertia, Is.EqualTo(streamed.Inertia).Within(1e-6 * streamed.Inertia));
        // the same init sample and k-means++ draws: both paths start from the same validation inertia
        Assert.That(streamed.InitInertia, Is.EqualTo(memory.InitInertia).Within(1e-6 * memory.InitInertia));
        memory.Codebook.Dispose();
        streamed.Codebook.Dispose();
        again.Codebook.Dispose();
    }

    [Test]
    public void LloydRefinementDoesNotIncreaseInertia()
    {
        using var x = Small();
        var plain = new MiniBatchKMeans(Quick, torch.CPU).Fit(x);
        var refined = new MiniBatchKMeans(Quick with { LloydIterations = 10 }, torch.CPU).Fit(x);
        Assert.That(refined.LloydIterations, Is.InRange(1, 10));
        Assert.That(refined.Inertia, Is.LessThanOrEqualTo(plain.Inertia * (1 + 1e-9)));
        plain.Codebook.Dispose();
        refined.Codebook.Dispose();
    }

    [Test]
    public void EarlyStoppingAndReassignmentFollowSklearnRules()
    {
        using var x = Small();
        // max_no_improvement = 2 stops long before the step budget
        var early = new MiniBatchKMeans(Quick with { MaxNoImprovement = 2 }, torch.CPU).Fit(x);
        Assert.That(early.StoppedEarly, Is.True);
        Assert.That(early.Steps, Is.LessThan(30 * 3000 / 256));
        // no early stopping: exactly max_iter * n / batch steps, as sklearn's n_steps
        var full = new MiniBatchKMeans(Quick with { MaxNoImprovement = null, MaxIter = 2 }, torch.CPU).Fit(x);
        Assert.That(full.Steps, Is.EqualTo(2 * 3000 / 256));
        Assert.That(full.StoppedEarly, Is.False);
        // reassignment of low-count centres keeps every cluster in use
        var reassigned = new MiniBatchKMeans(Quick with { Clusters = 20, ReassignmentRatio = 0.05 }, torch.CPU).Fit(x);
        using var labels = reassigned.Codebook.Predict(x);
        Assert.That(labels.unique().Item1.shape[0], Is.EqualTo(20));
        foreach (var f in new[] { early, full, reassigned }) f.Codebook.Dispose();
    }

    [Test]
    public void KMeansPlusPlusPicksDistinctDataPointsSpreadOverClusters()
    {
        // four tight, far-apart blobs: greedy k-means++ picks one point from each
        using var blobs = torch.cat([
            torch.randn(50, 2) * 0.01, torch.randn(50, 2) * 0.01 + 10, torch.randn(50, 2) * 0.01 - 10,
            torch.randn(50, 2) * 0.01 + torch.tensor(new float[] { 10, -10 })], 0);
        using var centers = MiniBatchKMeans.KMeansPlusPlus(blobs, 4, 3, new Random(1));
        var blobOf = Enumerable.Range(0, 4).Select(i =>
        {
            var c = centers[i].data<float>().ToArray();
            return (Math.Round(c[0] / 10), Math.Round(c[1] / 10));
        }).Distinct().Count();
        Assert.That(blobOf, Is.EqualTo(4));
    }

    [Test]
    public void CodebookSavesAndLoadsAsSafetensors()
    {
        using var x = Small(500);
        var fit = new MiniBatchKMeans(Quick, torch.CPU).Fit(x);
        var path = Path.Combine(Path.GetTempPath(), $"harness-km-{Guid.NewGuid():N}.safetensors");
        try
        {
            fit.Codebook.Save(path);
            using var loaded = KMeansCodebook.Load(path);
            Assert.That(loaded.Centers.data<float>().ToArray(), Is.EqualTo(fit.Codebook.Centers.data<float>().ToArray()));
            using var l1 = loaded.Predict(x);
            using var l2 = fit.Codebook.Predict(x);
            Assert.That(l1.data<long>().ToArray(), Is.EqualTo(l2.data<long>().ToArray()));
            using var file = HArnESS.Serialization.SafeTensors.Open(path);
            Assert.That(file.Metadata["clusters"], Is.EqualTo("8"));
        }
        finally
        {
            File.Delete(path);
            fit.Codebook.Dispose();
        }
    }

    [Test]
    public void BadInputsAreNamed()
    {
        using var x = Small(50);
        var tooMany = Assert.Throws<HArnessDataException>(() => new MiniBatchKMeans(Quick with { Clusters = 51 }, torch.CPU).Fit(x));
        Assert.That(tooMany!.Message, Does.Contain("K = 51").And.Contain("50"));
        Assert.Throws<HArnessDataException>(() => new MiniBatchKMeans(Quick with { Clusters = 51 }, torch.CPU).Fit(new TensorFeatureSource(x)));
        using var nan = x.clone();
        nan[17, 3] = torch.tensor(float.NaN);
        var bad = Assert.Throws<HArnessDataException>(() => new MiniBatchKMeans(Quick, torch.CPU).Fit(nan));
        Assert.That(bad!.Message, Does.Contain("row 17"));
        var chunks = new EnumerableFeatureSource(() => [x.narrow(0, 0, 25).clone(), nan.narrow(0, 0, 25).clone()], 12, name: "my-chunks");
        var badChunk = Assert.Throws<HArnessDataException>(() => new MiniBatchKMeans(Quick, torch.CPU).Fit(chunks));
        Assert.That(badChunk!.Message, Does.Contain("my-chunks chunk 1").And.Contain("row 17"));
        var opt = Assert.Throws<HArnessValidationException>(() => _ = new MiniBatchKMeans(Quick with { BatchSize = 0 }, torch.CPU));
        Assert.That(opt!.OptionName, Is.EqualTo("BatchSize"));
    }
}
