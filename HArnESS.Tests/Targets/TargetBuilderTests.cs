using HArnESS.Data;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Targets;

public sealed class TargetBuilderTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDir() => _dir = TargetsTestData.TempDir();

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private static KMeansOptions Small(KMeansOptions o) => o with { BatchSize = 256, NInit = 3, MaxIter = 10, Seed = 3 };

    private static void AssertLabelsAligned(Manifest manifest, TargetResult result, int k)
    {
        var labels = LabelFile.Load(result.LabelPath, manifest, LabelKind.Units);
        var lengths = Enumerable.Range(0, result.Shards.Count)
            .SelectMany(r => File.ReadAllLines(FeatureDumper.ShardPath(result.FeatureDir, "test", r, result.Shards.Count, ".len")).Select(long.Parse))
            .ToArray();
        Assert.That(labels.Count, Is.EqualTo(manifest.Count));
        for (var i = 0; i < labels.Count; i++)
        {
            var units = labels.Units(i);
            Assert.That(units.Count, Is.EqualTo(lengths[i]), $"line {i}");
            Assert.That(units, Is.All.InRange(0, k - 1));
        }
        Assert.That(labels.Lines.SelectMany(l => l.Split(' ')).Distinct().Count(), Is.GreaterThan(k / 2), "most units are used");
    }

    [Test]
    public async Task Mfcc39KMeansLabelsTheDemoCorpusThroughThePublicApi()
    {
        var manifest = Manifest.Load(TargetsTestData.DemoManifest());
        var stages = new List<TargetStage>();
        using var result = await TargetGenerator.From(manifest).Mfcc39().KMeans(24, Small).Shards(2).Into(_dir)
            .FitAsync(new InlineProgress<TargetProgress>(p => stages.Add(p.Stage)));
        Assert.That(stages.Distinct(), Is.EqualTo(new[] { TargetStage.Dump, TargetStage.KMeans, TargetStage.Labels }));
        Assert.That(result.Codebook.Clusters, Is.EqualTo(24));
        Assert.That(result.Codebook.Dimension, Is.EqualTo(39));
        Assert.That(result.Pca, Is.Null);
        AssertLabelsAligned(manifest, result, 24);
        Assert.That(File.Exists(Path.Combine(_dir, "targets.json")), Is.True);

        // the saved codebook reproduces the inertia over all frames, and the labels are its nearest centres
        using var loaded = KMeansCodebook.Load(result.CodebookPath);
        var all = new FeatureShardSource(result.FeatureDir, "test", 2);
        Assert.That(loaded.Inertia(all), Is.EqualTo(result.Inertia).Within(1e-6 * result.Inertia));
        var firstLine = LabelFile.Load(result.LabelPath).Units(0);
        var (_, feats) = all.ReadUtterances().First();
        using (feats)
        using (var predicted = loaded.Predict(feats))
            Assert.That(predicted.data<long>().ToArray().Select(v => (int)v), Is.EqualTo(firstLine));
    }

    [Test]
    public async Task PcaCompactedTeacherLayerTargetsAndReuseAcrossIterations()
    {
        var manifest = TargetsTestData.Demo(10);
        using var teacher = TargetsTestData.TinyTeacher();
        var plan = TargetGenerator.From(manifest).Split("test").KMeans(12, Small).SampleFraction(0.8, seed: 2);
        using var it2 = await plan.Layer(teacher, 2).Pca(components: 8).InMemoryLimit(0).Into(Path.Combine(_dir, "it2")).FitAsync(); // streamed k-means
        Assert.That(it2.Pca, Is.Not.Null);
        Assert.That(it2.Pca!.ComponentCount, Is.EqualTo(8));
        Assert.That(it2.Codebook.Dimension, Is.EqualTo(8));
        Assert.That(File.Exists(it2.PcaPath), Is.True);
        AssertLabelsAligned(manifest, it2, 12);
        using var pca = Pca.Load(it2.PcaPath!);
        Assert.That(pca.InputDim, Is.EqualTo(32));

        // the same plan, another feature kind and a variance threshold: a second iteration's targets
        using var it1 = await plan.Mfcc39().Pca(varianceThreshold: 0.9).Into(Path.Combine(_dir, "it1")).FitAsync();
        Assert.That(it1.Pca!.RetainedVarianceRatio, Is.GreaterThanOrEqualTo(0.9));
        Assert.That(it1.Codebook.Dimension, Is.EqualTo(it1.Pca.ComponentCount));
        AssertLabelsAligned(manifest, it1, 12);
    }

    [Test]
    public async Task ARestartedFitSkipsFinishedShardsAndGivesTheSameLabels()
    {
        var manifest = TargetsTestData.Demo(9);
        var plan = TargetGenerator.From(manifest).Split("test").Mfcc39().KMeans(10, Small).Shards(3).Into(_dir);
        using var cts = new CancellationTokenSource();
        var stop = new InlineProgress<TargetProgress>(p => { if (p.Message.StartsWith("dump: shard 2/3", StringComparison.Ordinal)) cts.Cancel(); });
        Assert.CatchAsync<OperationCanceledException>(() => plan.FitAsync(stop, cts.Token));
        Assert.That(File.Exists(FeatureDumper.ShardPath(Path.Combine(_dir, "features"), "test", 0, 3, ".done")), Is.True);
        Assert.That(File.Exists(Path.Combine(_dir, "test.km")), Is.False);

        using var resumed = await plan.FitAsync();
        Assert.That(resumed.Shards.Select(s => s.Recomputed), Is.EqualTo(new[] { false, true, true }));
        var fresh = Path.Combine(_dir, "fresh");
        using var again = await plan.Into(fresh).FitAsync();
        Assert.That(File.ReadAllText(resumed.LabelPath), Is.EqualTo(File.ReadAllText(again.LabelPath)));
        Assert.That(resumed.Inertia, Is.EqualTo(again.Inertia));
    }

    [Test]
    public void BadPlansAndTooLargeKAreNamed()
    {
        var manifest = TargetsTestData.Demo(2);
        var ex = Assert.Throws<HArnessValidationException>(() => TargetGenerator.From(manifest).KMeans(4).Into(_dir).FitAsync());
        Assert.That(ex!.OptionName, Is.EqualTo("Features"));
        Assert.Throws<HArnessValidationException>(() => TargetGenerator.From(manifest).Mfcc39().Into(_dir).FitAsync());
        Assert.Throws<HArnessValidationException>(() => TargetGenerator.From(manifest).Mfcc39().KMeans(4).FitAsync());
        var tooMany = Assert.Throws<HArnessValidationException>(() => TargetGenerator.From(manifest).Mfcc39().KMeans(100_000).Into(_dir).FitAsync());
        Assert.That(tooMany!.Message, Does.Contain("K = 100000").And.Contain("frames"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "features")), Is.False, "checked before anything is dumped");
    }
}
