using HArnESS.Audio;
using HArnESS.Data;
using HArnESS.Distillation.Targets;
using HArnESS.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Targets;

/// <summary>The targets pipeline logs through the <see cref="ILoggerFactory"/> of its options (CONTRIBUTING,
/// "ILoggerFactory in options"): each stage's start, finish or reuse with its signature, dropped utterances,
/// k-means progress at debug level, NaN features and refusals at warning level; with the default null factory, nothing.</summary>
public sealed class TargetLoggingTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDir() => _dir = TargetsTestData.TempDir();

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    private static KMeansOptions Small(KMeansOptions o) => o with { BatchSize = 256, NInit = 3, MaxIter = 10, Seed = 3 };

    /// <summary>The first demo utterances plus one too short for a single MFCC frame (200 samples &lt; 400).</summary>
    private Manifest CorpusWithAShortUtterance()
    {
        var demo = TargetsTestData.Demo(5);
        var shortWav = Path.Combine(_dir, "short.wav");
        WavWriter.Write(shortWav, new AudioClip(Enumerable.Range(0, 200).Select(i => (float)Math.Sin(i * 0.1) * 0.1f).ToArray(), 16000, 1));
        var entries = demo.Entries.Select((e, i) => new ManifestEntry(demo.GetFullPath(i), e.NumSamples)).ToList();
        entries.Insert(2, new ManifestEntry(shortWav, 200));
        var manifest = new Manifest(_dir, entries);
        var tsv = Path.Combine(_dir, "test.tsv");
        manifest.Save(tsv, absoluteRoot: true);
        return Manifest.Load(tsv);
    }

    [Test]
    public async Task EveryStageLogsStartFinishAndReuseWithItsSignature_DroppedUtterancesWarn_KMeansProgressIsDebug()
    {
        var manifest = CorpusWithAShortUtterance();
        using var factory = new RecordingLoggerFactory();
        var plan = TargetGenerator.From(manifest).Mfcc39().Pca(components: 8).KMeans(6, Small).Logging(factory).Into(Path.Combine(_dir, "out"));

        using (var first = await plan.FitAsync())
            Assert.That(first.Reused, Is.Empty);
        var run1 = factory.Take();
        string Message(LogLevel level, string category, string startsWith)
        {
            var hits = run1.Where(e => e.Level == level && e.Category == category && e.Message.StartsWith(startsWith, StringComparison.Ordinal)).ToList();
            Assert.That(hits, Has.Count.EqualTo(1), $"one {level} '{startsWith}…' from {category}; got:\n{string.Join("\n", run1)}");
            return hits[0].Message;
        }
        const string Targets = "HArnESS.Distillation.Targets.TargetGenerator";
        const string Dumper = "HArnESS.Distillation.Targets.FeatureDumper";
        const string KMeans = "HArnESS.Distillation.Targets.MiniBatchKMeans";
        const string PcaCategory = "HArnESS.Distillation.Targets.Pca";

        Assert.That(Message(LogLevel.Information, Targets, "targets: started"), Does.Contain("6 utterances").And.Contain("K = 6"));
        var shardStarted = Message(LogLevel.Information, Dumper, "dump: shard 0/1 started");
        var shardSignature = shardStarted[(shardStarted.IndexOf("signature ", StringComparison.Ordinal) + "signature ".Length)..];
        Assert.That(shardSignature, Does.Contain("mfcc").IgnoreCase.And.Contain("entries 0-6"));
        Assert.That(Message(LogLevel.Information, Dumper, "dump: shard 0/1 finished"), Does.Contain("6 utterances").And.Contain("audio s/s"));
        var dumpFinished = Message(LogLevel.Information, Targets, "targets: dump finished");
        Assert.That(Message(LogLevel.Information, Targets, "targets: PCA started"), Does.Contain("signature "));
        Assert.That(Message(LogLevel.Information, PcaCategory, "PCA: fitted on"), Does.Contain("8 components"));
        Assert.That(Message(LogLevel.Information, Targets, "targets: PCA finished"), Does.Contain("8 components"));
        var kmStarted = Message(LogLevel.Information, Targets, "targets: k-means started");
        Assert.That(Message(LogLevel.Information, KMeans, "k-means: fitting K = 6"), Does.Contain("3 k-means++ inits"));
        Assert.That(Message(LogLevel.Information, KMeans, "k-means: fitted K = 6"), Does.Contain("per frame"));
        Assert.That(Message(LogLevel.Information, Targets, "targets: k-means finished"), Does.Contain("K = 6"));
        Assert.That(Message(LogLevel.Information, Targets, "targets: labels finished"), Does.Contain("6 utterances"));
        Assert.That(Message(LogLevel.Information, Targets, "targets: finished"), Does.Contain("reused stages: none"));

        // k-means progress: every init and every 50th mini-batch step, at debug level only.
        var debug = run1.Where(e => e.Level == LogLevel.Debug && e.Category == KMeans).Select(e => e.Message).ToList();
        Assert.That(debug.Count(m => m.StartsWith("k-means: init ", StringComparison.Ordinal)), Is.EqualTo(3), string.Join("\n", debug));
        Assert.That(debug.Where(m => m.StartsWith("k-means: mini-batch step ", StringComparison.Ordinal)), Is.Not.Empty);
        Assert.That(run1.Where(e => e.Message.StartsWith("k-means: mini-batch step", StringComparison.Ordinal) || e.Message.StartsWith("k-means: init", StringComparison.Ordinal)).Select(e => e.Level), Is.All.EqualTo(LogLevel.Debug));

        // The one dropped utterance: a warning naming it with its manifest line (line 4: root, two entries, then it).
        var warnings = run1.Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1), string.Join("\n", warnings));
        Assert.That(warnings[0].Message, Does.Contain("short.wav").And.Contain("too short for one frame").And.Contain($"line 4 of '{manifest.SourcePath}'"));

        // Run again: every stage is reused, and says so with the signature it matched.
        using (var second = await plan.FitAsync())
            Assert.That(second.Reused, Is.EqualTo(new[] { TargetStage.Pca, TargetStage.KMeans, TargetStage.Labels }));
        var run2 = factory.Take();
        Assert.That(run2.Single(e => e.Message.StartsWith("dump: shard 0/1 reused", StringComparison.Ordinal)).Message, Does.Contain(shardSignature));
        Assert.That(run2.Single(e => e.Message.StartsWith("targets: dump reused", StringComparison.Ordinal)).Message,
            Does.Contain(dumpFinished[(dumpFinished.IndexOf("signature ", StringComparison.Ordinal) + 10)..]));
        Assert.That(run2.Single(e => e.Message.StartsWith("targets: PCA reused", StringComparison.Ordinal)).Message, Does.Contain("signature "));
        Assert.That(run2.Single(e => e.Message.StartsWith("targets: k-means reused", StringComparison.Ordinal)).Message,
            Does.Contain(kmStarted[(kmStarted.IndexOf("signature ", StringComparison.Ordinal) + 10)..]));
        Assert.That(run2.Single(e => e.Message.StartsWith("targets: labels reused", StringComparison.Ordinal)).Message, Does.Contain("6 utterances"));
        Assert.That(run2.Where(e => e.Category == KMeans || e.Category == PcaCategory || (e.Message.Contains("started", StringComparison.Ordinal) && !e.Message.StartsWith("targets: started", StringComparison.Ordinal))), Is.Empty,
            "nothing was refitted or redumped");
        Assert.That(run2.Single(e => e.Message.StartsWith("targets: finished", StringComparison.Ordinal)).Message, Does.Contain("Pca, KMeans, Labels"));

        // Without .Logging(...) the same plan logs nothing (the null factory) and writes the same labels.
        var quiet = TargetGenerator.From(manifest).Mfcc39().Pca(components: 8).KMeans(6, Small).Into(Path.Combine(_dir, "quiet"));
        using (var third = await quiet.FitAsync())
            Assert.That(File.ReadAllText(third.LabelPath), Is.EqualTo(File.ReadAllText(Path.Combine(_dir, "out", "test.km"))));
        Assert.That(factory.Take(), Is.Empty);
    }

    [Test]
    public void NanFeaturesAndRefusalsAreWarningsBeforeTheNamedError()
    {
        HArnessRuntime.EnsureInitialized();
        using var factory = new RecordingLoggerFactory();

        using (var x = torch.randn(50, 4))
        {
            x[7, 2] = torch.tensor(float.NaN);
            var km = new MiniBatchKMeans(new KMeansOptions { Clusters = 3, LoggerFactory = factory }, torch.CPU);
            Assert.Throws<HArnessDataException>(() => km.Fit(x));
            var w = factory.Take().Single();
            Assert.That(w.Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(w.Message, Does.Contain("k-means refused").And.Contain("row 7"));
        }
        using (var x = torch.randn(5, 4))
        {
            var km = new MiniBatchKMeans(new KMeansOptions { Clusters = 6, LoggerFactory = factory }, torch.CPU);
            Assert.Throws<HArnessDataException>(() => km.Fit(x));
            var w = factory.Take().Single();
            Assert.That((w.Level, w.Message), Is.EqualTo((LogLevel.Warning, "k-means refused: K = 6 clusters is larger than the 5 frames to fit")));
        }
        using (var x = torch.randn(20, 4))
        {
            Assert.Throws<HArnessConfigException>(() => Pca.Fit(new TensorFeatureSource(x), new PcaOptions { Components = 5, LoggerFactory = factory }, torch.CPU));
            var w = factory.Take().Single();
            Assert.That((w.Level, w.Message), Is.EqualTo((LogLevel.Warning, "PCA refused: 5 components requested for 4-dim features")));
        }

        // An invalid plan: one warning listing every problem, then the validation error.
        var plan = TargetGenerator.From(TargetsTestData.Demo(2)).Mfcc39().Pca(components: 40).KMeans(100_000).Logging(factory).Into(_dir);
        Assert.Throws<HArnessValidationException>(() => plan.FitAsync());
        var invalid = factory.Take().Single();
        Assert.That(invalid.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(invalid.Message, Does.StartWith("targets: the plan is invalid (2 problems)").And.Contain("Pca.Components").And.Contain("KMeans.Clusters"));

        // A null factory is refused where it is given, not when the first message is due.
        Assert.Throws<ArgumentNullException>(() => plan.Logging(null!));
        var e = Assert.Throws<HArnessValidationException>(() => new KMeansOptions { LoggerFactory = null! }.Validate())!;
        Assert.That(e.Errors.Select(x => x.Option), Is.EqualTo(new[] { "LoggerFactory" }));
        Assert.That(new KMeansOptions().LoggerFactory, Is.SameAs(NullLoggerFactory.Instance));
        Assert.That(new PcaOptions().LoggerFactory, Is.SameAs(NullLoggerFactory.Instance));
        Assert.That(new FeatureDumpOptions { OutputDir = _dir }.LoggerFactory, Is.SameAs(NullLoggerFactory.Instance));
    }
}
