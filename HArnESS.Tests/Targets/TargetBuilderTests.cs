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

/// <summary>Signatures, stage reuse, progress and early validation of a target run (issue 8 points 2, 9, 10; issue 9 §3).</summary>
public sealed class TargetRunTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDir() => _dir = TargetsTestData.TempDir();

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private static KMeansOptions Small(KMeansOptions o) => o with { BatchSize = 256, NInit = 3, MaxIter = 10, Seed = 3 };

    private static float[] AllFeatures(string dir, string split, int shards)
    {
        using var all = torch.cat(new FeatureShardSource(dir, split, shards).ReadChunks().ToList(), 0);
        return all.data<float>().ToArray();
    }

    [Test]
    public async Task ASameShapedTeacherWithOtherWeightsRecomputesTheDumpAndEveryStage()
    {
        var manifest = TargetsTestData.Demo(6);
        using var a = new SpeechEncoder(EncoderPresets.TinyPreLn);
        using var b = new SpeechEncoder(EncoderPresets.TinyPreLn);
        var plan = TargetGenerator.From(manifest).Split("test").Pca(components: 4).KMeans(8, Small).Shards(2).Into(_dir);
        using var first = await plan.Layer(a, 2).FitAsync();
        var firstFeatures = AllFeatures(first.FeatureDir, "test", 2);

        using var second = await plan.Layer(b, 2).FitAsync();
        Assert.That(second.Shards.Select(s => s.Recomputed), Is.All.True, "another teacher's dump is not reused");
        Assert.That(second.Reused, Is.Empty);
        Assert.That(AllFeatures(second.FeatureDir, "test", 2), Is.Not.EqualTo(firstFeatures));
        Assert.That(second.Inertia, Is.Not.EqualTo(first.Inertia));
        Assert.That(second.Manifest.Features, Is.Not.EqualTo(first.Manifest.Features));

        using var again = await plan.Layer(b, 2).FitAsync();
        Assert.That(again.Shards.Select(s => s.Recomputed), Is.All.False);
        Assert.That(again.Reused, Is.EqualTo(new[] { TargetStage.Pca, TargetStage.KMeans, TargetStage.Labels }));
        Assert.That(again.Inertia, Is.EqualTo(second.Inertia));

        // waveform normalisation changes the features too
        using var normalised = await plan.Layer(b, 2, normalizeWaveform: true).FitAsync();
        Assert.That(normalised.Shards.Select(s => s.Recomputed), Is.All.True);
        Assert.That(normalised.Reused, Is.Empty);
    }

    [Test]
    public async Task ARestartedRunSkipsFinishedStagesAndFitsNothingTwice()
    {
        var manifest = TargetsTestData.Demo(8);
        var plan = TargetGenerator.From(manifest).Split("test").Mfcc39().Pca(components: 8).KMeans(6, Small).Into(_dir);
        static (int Pca, int KMeans, int Labels) Fits(List<TargetProgress> r) => (
            r.Count(p => p.Stage == TargetStage.Pca && !p.Reused),
            r.Count(p => p.Stage == TargetStage.KMeans && !p.Reused && p.Message.StartsWith("kmeans: k-means++ init 1/", StringComparison.Ordinal)),
            r.Count(p => p.Stage == TargetStage.Labels && !p.Reused));

        // stopped during k-means: the PCA is finished and recorded
        using var cts = new CancellationTokenSource();
        var stopped = new List<TargetProgress>();
        Assert.CatchAsync<OperationCanceledException>(() => plan.FitAsync(new InlineProgress<TargetProgress>(p =>
        {
            stopped.Add(p);
            if (p.Stage == TargetStage.KMeans) cts.Cancel();
        }), cts.Token));
        Assert.That(Fits(stopped), Is.EqualTo((1, 1, 0)));
        Assert.That(TargetManifest.Load(_dir).Pca, Is.Not.Null);
        Assert.That(TargetManifest.Load(_dir).KMeans, Is.Null);

        var resumed = new List<TargetProgress>();
        using var r1 = await plan.FitAsync(new InlineProgress<TargetProgress>(resumed.Add));
        Assert.That(Fits(resumed), Is.EqualTo((0, 1, 1)), "the PCA is not fitted again");
        Assert.That(r1.Reused, Is.EqualTo(new[] { TargetStage.Pca }));

        var finished = new List<TargetProgress>();
        using var r2 = await plan.FitAsync(new InlineProgress<TargetProgress>(finished.Add));
        Assert.That(Fits(finished), Is.EqualTo((0, 0, 0)), "a finished run fits nothing");
        Assert.That(r2.Reused, Is.EqualTo(new[] { TargetStage.Pca, TargetStage.KMeans, TargetStage.Labels }));
        Assert.That(r2.Inertia, Is.EqualTo(r1.Inertia));
        Assert.That(r2.Fit.Steps, Is.EqualTo(r1.Fit.Steps));

        // the typed targets.json is what the next iteration reads back
        var read = TargetManifest.Load(_dir);
        Assert.That(read, Is.EqualTo(r2.Manifest));
        Assert.That(read.Resolve(read.Labels!.Path), Is.EqualTo(r2.LabelPath));
        Assert.That(read.KMeans!.Clusters, Is.EqualTo(6));
        Assert.That(read.Pca!.Components, Is.EqualTo(8));
        using (var codebook = KMeansCodebook.Load(read.Resolve(read.KMeans.Path)))
            Assert.That(codebook.Dimension, Is.EqualTo(8));

        // and a run from scratch gives the same labels as the resumed one
        using var fresh = await plan.Into(Path.Combine(_dir, "fresh")).FitAsync();
        Assert.That(File.ReadAllText(fresh.LabelPath), Is.EqualTo(File.ReadAllText(r1.LabelPath)));
    }

    [Test]
    public async Task ProgressComesOncePerStepWithUnitsAndNoRepeats()
    {
        var manifest = TargetsTestData.Demo(10);
        var reports = new List<TargetProgress>();
        using var result = await TargetGenerator.From(manifest).Split("test").Mfcc39().Pca(components: 8)
            .KMeans(6, o => Small(o) with { MaxIter = 4 }).Shards(2).DumpBatches(batchSize: 4).Into(_dir)
            .FitAsync(new InlineProgress<TargetProgress>(reports.Add));

        Assert.That(reports.Select(r => r.Message), Is.Unique);
        Assert.That(reports.Select(r => r.Message), Has.All.Match(@"^(dump|pca|kmeans|labels): \S"));
        Assert.That(reports.Select(r => r.Unit), Has.All.Not.Empty);
        Assert.That(reports.Select(r => r.Message), Has.None.Contain("inertia inertia"));
        // two shards of 5 utterances in batches of at most 4: two batches each
        var dump = reports.Where(r => r.Stage == TargetStage.Dump).ToList();
        Assert.That(dump, Has.Count.EqualTo(4));
        Assert.That(dump.Select(r => r.Message), Has.All.Contain("utterances").And.All.Contain("audio s/s"));
        Assert.That(reports.Count(r => r.Stage == TargetStage.Pca), Is.EqualTo(1));
        Assert.That(reports.Count(r => r.Stage == TargetStage.Labels), Is.EqualTo(1));
        var kmeans = reports.Where(r => r.Stage == TargetStage.KMeans).ToList();
        var steps = result.Fit.Steps;
        Assert.That(kmeans.Count(r => r.Unit == "inits"), Is.EqualTo(3), "one report per k-means++ init");
        Assert.That(kmeans.Count(r => r.Unit == "steps"), Is.InRange(1, steps / 50 + 1));
        Assert.That(kmeans.Count(r => r.Unit == "passes"), Is.EqualTo(1));

        // init and final inertia on one scale: both a mean squared distance per frame
        double Inertia(TargetProgress p) => double.Parse(System.Text.RegularExpressions.Regex.Match(p.Message, @"inertia ([0-9.eE+-]+) per frame").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        var init = Inertia(kmeans.Last(r => r.Unit == "inits"));
        var final = Inertia(kmeans.Single(r => r.Unit == "passes"));
        Assert.That(final, Is.EqualTo(result.Fit.MeanInertia).Within(1e-5 * final));
        Assert.That(init / final, Is.InRange(0.5, 5.0));
    }

    [Test]
    public void ChecksThatNeedNoFeaturesRunBeforeTheDumpAndReportEverythingAtOnce()
    {
        var manifest = TargetsTestData.Demo(3);
        using var teacher = TargetsTestData.TinyTeacher(); // 32 wide, 2 layers
        var plan = TargetGenerator.From(manifest).Layer(teacher, 5).Pca(components: 64).KMeans(100_000).Shards(4).Into(_dir);
        var ex = Assert.Throws<HArnessValidationException>(() => plan.FitAsync());
        Assert.That(ex!.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "Shards", "Layer", "Pca.Components", "KMeans.Clusters" }));
        Assert.That(ex.Message, Does.Contain("[0, 2]").And.Contain("feature dimension 32").And.Contain("3 utterances").And.Contain("K = 100000"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "features")), Is.False, "nothing was dumped");
        Assert.Throws<HArnessValidationException>(() => plan.Validate());
    }

    [Test]
    public void AMissingWavDuringATargetRunNamesTheManifestAndItsLine()
    {
        using var corpus = new HArnESS.Tests.Data.TempCorpus([4000, 5000, 6000]);
        var missing = corpus.Manifest.GetFullPath(1);
        File.Delete(missing);
        var ex = Assert.ThrowsAsync<HArnessDataException>(() =>
            TargetGenerator.From(corpus.TsvPath).Mfcc39().KMeans(2, Small).Into(_dir).FitAsync());
        Assert.That(ex!.Message, Does.Contain(corpus.TsvPath).And.Contain("line 3").And.Contain(missing));
        Assert.That(ex.FilePath, Is.EqualTo(missing));
    }

    [Test]
    public void BuilderCallsReturnNewBuildersAndLeaveTheirReceiverUnchanged()
    {
        var t = TargetGenerator.From(TargetsTestData.Demo(2)).Mfcc39().Into(_dir);
        var withK = t.KMeans(500);
        Assert.That(withK, Is.Not.SameAs(t));
        var ex = Assert.Throws<HArnessValidationException>(() => t.Validate());
        Assert.That(ex!.Errors.Select(e => e.Option), Is.EqualTo(new[] { "KMeans" }), "t.KMeans(500) without assignment changed nothing");
        var tooLarge = Assert.Throws<HArnessValidationException>(() => withK.Validate());
        Assert.That(tooLarge!.Errors.Select(e => e.Option), Is.EqualTo(new[] { "KMeans.Clusters" }), "2 utterances hold fewer than 500 frames");
    }
}
