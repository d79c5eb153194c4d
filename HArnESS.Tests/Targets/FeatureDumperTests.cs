using HArnESS.Data;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Features;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Targets;

public sealed class FeatureDumperTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDir() => _dir = TargetsTestData.TempDir();

    [TearDown]
    public void RemoveDir() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void ShardRangesMatchFairseqGetShardRange()
    {
        // fairseq: start = round(tot / nshard * rank) with Python's round-half-to-even
        Assert.That(FeatureDumper.ShardRange(10, 0, 4), Is.EqualTo((0, 2)));   // round(2.5) = 2
        Assert.That(FeatureDumper.ShardRange(10, 1, 4), Is.EqualTo((2, 5)));
        Assert.That(FeatureDumper.ShardRange(10, 2, 4), Is.EqualTo((5, 8)));   // round(7.5) = 8
        Assert.That(FeatureDumper.ShardRange(10, 3, 4), Is.EqualTo((8, 10)));
    }

    [Test]
    public void MfccShardsHoldHubertMfcc39OfEveryUtteranceInManifestOrder()
    {
        var manifest = TargetsTestData.Demo(7);
        var infos = new FeatureDumper(manifest, new Mfcc39FeatureReader(), new FeatureDumpOptions { OutputDir = _dir, Split = "demo", Shards = 3 }).Run();
        Assert.That(infos.Select(i => i.Utterances).Sum(), Is.EqualTo(7));
        Assert.That(infos.All(i => i.Recomputed), Is.True);
        var source = new FeatureShardSource(_dir, "demo", 3);
        Assert.That(source.Dimension, Is.EqualTo(39));
        Assert.That(source.Utterances, Is.EqualTo(7));
        var mfcc = new HubertMfcc39();
        foreach (var (u, feats) in source.ReadUtterances())
        {
            using (feats)
            {
                var clip = HArnESS.Audio.WavReader.Read(manifest.GetFullPath(u)).ToMono();
                using var wave = torch.tensor(clip.Samples);
                using var expected = mfcc.Compute(wave);
                Assert.That(feats.shape, Is.EqualTo(expected.shape), $"utterance {u}");
                Assert.That(feats.allclose(expected, rtol: 0, atol: 1e-5), Is.True, $"utterance {u}");
            }
        }
        Assert.That(source.Rows, Is.EqualTo(infos.Sum(i => i.Frames)));
    }

    /// <summary>fairseq's HubertFeatureReader: each utterance alone, cut into chunks, the chunks' frames concatenated.</summary>
    private static Tensor OneAtATime(SpeechEncoder teacher, string path, int layer, long chunk)
    {
        var clip = HArnESS.Audio.WavReader.Read(path).ToMono();
        using var wave = torch.tensor(clip.Samples);
        var parts = new List<Tensor>();
        using (torch.no_grad())
            for (long s = 0; s < wave.shape[0]; s += chunk)
            {
                var len = Math.Min(chunk, wave.shape[0] - s);
                using var o = teacher.Forward(wave.narrow(0, s, len).unsqueeze(0), stopAtLayer: layer);
                parts.Add(o.HiddenStates[layer].squeeze(0).clone());
            }
        var all = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    [TestCase("tiny-post-ln", 4000L, false, TestName = "GroupNormTeacherRunsRowsAloneInChunksLikeFairseq")]
    [TestCase("tiny-pre-ln", 1_600_000L, true, TestName = "LayerNormTeacherRunsPaddedBatchesCutToFrameLengths")]
    public void TeacherLayerDumpEqualsFairseqsOneAtATimeDump(string preset, long chunk, bool batched)
    {
        var manifest = TargetsTestData.Demo(6);
        using var teacher = new SpeechEncoder(EncoderPresets.Get(preset));
        teacher.eval();
        var reader = new TeacherLayerFeatureReader(teacher, layer: 1, maxChunkSamples: chunk);
        Assert.That(reader.Dimension, Is.EqualTo(32));
        Assert.That(reader.Batched, Is.EqualTo(batched));
        var infos = new FeatureDumper(manifest, reader, new FeatureDumpOptions { OutputDir = _dir, Shards = 2, BatchSize = 3 }).Run();
        Assert.That(infos.Select(i => i.Dimension), Is.All.EqualTo(32));
        var source = new FeatureShardSource(_dir, "train", 2);
        Assert.That(source.Rows, Is.EqualTo(infos.Sum(i => i.Frames)));
        var lengths = manifest.Entries.Select(e => e.NumSamples).ToArray();
        Assert.That(lengths.Distinct().Count(), Is.GreaterThan(1), "the batches are padded");
        foreach (var (u, feats) in source.ReadUtterances())
        {
            using (feats)
            using (var expected = OneAtATime(teacher, manifest.GetFullPath(u), 1, chunk))
            {
                Assert.That(feats.shape, Is.EqualTo(expected.shape), $"utterance {u}");
                Assert.That(reader.FrameCount(lengths[u]), Is.EqualTo(expected.shape[0]));
                Assert.That(feats.allclose(expected, rtol: 0, atol: 1e-4), Is.True, $"utterance {u}: max diff {(feats - expected).abs().max().item<float>()}");
            }
        }
    }

    [Test]
    public void TheTeacherLayerReaderLeavesTheCallersTrainingFlagAndGradModeAlone()
    {
        var manifest = TargetsTestData.Demo(2);
        using var teacher = new SpeechEncoder(EncoderPresets.TinyPreLn);
        teacher.train();
        var reader = new TeacherLayerFeatureReader(teacher, layer: 2);
        new FeatureDumper(manifest, reader, new FeatureDumpOptions { OutputDir = _dir }).Run();
        Assert.That(teacher.training, Is.True, "a model in training stays in training");
        Assert.That(torch.is_grad_enabled(), Is.True);
        teacher.eval();
        new FeatureDumper(manifest, reader, new FeatureDumpOptions { OutputDir = Path.Combine(_dir, "again") }).Run();
        Assert.That(teacher.training, Is.False);
    }

    [Test]
    public void AStoppedDumpRestartsAtTheNextUnfinishedShardAndGivesTheSameFiles()
    {
        var manifest = TargetsTestData.Demo(8);
        var options = new FeatureDumpOptions { OutputDir = _dir, Shards = 4 };
        using var cts = new CancellationTokenSource();
        var progress = new InlineProgress<FeatureDumpProgress>(p => { if (p.Rank == 2) cts.Cancel(); });
        Assert.Catch<OperationCanceledException>(() => new FeatureDumper(manifest, new Mfcc39FeatureReader(), options).Run(progress, cts.Token));
        string Shard(int r, string ext) => FeatureDumper.ShardPath(_dir, "train", r, 4, ext);
        Assert.That(File.Exists(Shard(0, ".done")) && File.Exists(Shard(1, ".done")), Is.True);
        Assert.That(File.Exists(Shard(2, ".done")) || File.Exists(Shard(2, ".npy")) || File.Exists(Shard(3, ".npy")), Is.False);
        Assert.That(Directory.GetFiles(_dir, "*.tmp"), Is.Empty, "temporary files of the stopped shard are removed");
        Assert.Throws<HArnessDataException>(() => _ = new FeatureShardSource(_dir, "train", 4));
        var before = new[] { 0, 1 }.Select(r => File.GetLastWriteTimeUtc(Shard(r, ".npy"))).ToArray();

        var reports = new List<FeatureDumpProgress>();
        var infos = new FeatureDumper(manifest, new Mfcc39FeatureReader(), options).Run(new InlineProgress<FeatureDumpProgress>(reports.Add));
        Assert.That(infos.Select(i => i.Recomputed), Is.EqualTo(new[] { false, false, true, true }));
        Assert.That(reports.Where(r => r.SkippedFinishedShard).Select(r => r.Rank), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(new[] { 0, 1 }.Select(r => File.GetLastWriteTimeUtc(Shard(r, ".npy"))), Is.EqualTo(before));

        var fresh = TargetsTestData.TempDir();
        try
        {
            new FeatureDumper(manifest, new Mfcc39FeatureReader(), options with { OutputDir = fresh }).Run();
            for (var r = 0; r < 4; r++)
            {
                Assert.That(File.ReadAllBytes(Shard(r, ".npy")), Is.EqualTo(File.ReadAllBytes(FeatureDumper.ShardPath(fresh, "train", r, 4, ".npy"))), $"shard {r}");
                Assert.That(File.ReadAllText(Shard(r, ".len")), Is.EqualTo(File.ReadAllText(FeatureDumper.ShardPath(fresh, "train", r, 4, ".len"))));
            }
        }
        finally
        {
            Directory.Delete(fresh, recursive: true);
        }
    }

    [Test]
    public void NaNFeaturesAreRefusedNamingTheUtteranceAndTheShard()
    {
        var manifest = TargetsTestData.Demo(4);
        var reader = new NaNReader(poisonIndexOf: manifest.GetFullPath(2));
        var ex = Assert.Throws<HArnessDataException>(() =>
            new FeatureDumper(manifest, reader, new FeatureDumpOptions { OutputDir = _dir, Shards = 2 }).Run());
        Assert.That(ex!.Message, Does.Contain(manifest.GetFullPath(2)).And.Contain("NaN").And.Contain("entry 2"));

        // a shard file corrupted after dumping: the reader names the file and the manifest entry
        new FeatureDumper(manifest, new Mfcc39FeatureReader(), new FeatureDumpOptions { OutputDir = _dir, Shards = 2 }).Run();
        var npy = FeatureDumper.ShardPath(_dir, "train", 1, 2, ".npy");
        var firstLen = long.Parse(File.ReadAllLines(FeatureDumper.ShardPath(_dir, "train", 1, 2, ".len"))[0]);
        using (var fs = new FileStream(npy, FileMode.Open, FileAccess.Write))
        {
            fs.Position = 128 + (firstLen + 3) * 39 * 4; // frame 3 of the shard's second utterance (manifest entry 3)
            fs.Write(BitConverter.GetBytes(float.NaN));
        }
        var source = new FeatureShardSource(_dir, "train", 2);
        var bad = Assert.Throws<HArnessDataException>(() => { foreach (var c in source.ReadChunks()) c.Dispose(); });
        Assert.That(bad!.Message, Does.Contain(npy).And.Contain("manifest entry 3").And.Contain("frame 3"));
    }

    [Test]
    public void AMissingShardIsNamed()
    {
        var manifest = TargetsTestData.Demo(4);
        new FeatureDumper(manifest, new Mfcc39FeatureReader(), new FeatureDumpOptions { OutputDir = _dir, Shards = 2 }).Run();
        var npy = FeatureDumper.ShardPath(_dir, "train", 1, 2, ".npy");
        File.Delete(npy);
        var ex = Assert.Throws<HArnessDataException>(() => _ = new FeatureShardSource(_dir, "train", 2));
        Assert.That(ex!.Message, Does.Contain("shard 1 of 2").And.Contain(npy));
        Assert.That(ex.FilePath, Is.EqualTo(npy));
        var ex3 = Assert.Throws<HArnessDataException>(() => _ = new FeatureShardSource(_dir, "train", 3));
        Assert.That(ex3!.Message, Does.Contain("shard 0 of 3"));
    }

    [Test]
    public void SampleFractionTakesASeededShareOfUtterancesPerShard()
    {
        var manifest = TargetsTestData.Demo(10);
        var infos = new FeatureDumper(manifest, new Mfcc39FeatureReader(), new FeatureDumpOptions { OutputDir = _dir, Shards = 2 }).Run();
        var all = new FeatureShardSource(_dir, "train", 2);
        var half = new FeatureShardSource(_dir, "train", 2, fraction: 0.3, seed: 4);
        var again = new FeatureShardSource(_dir, "train", 2, fraction: 0.3, seed: 4);
        Assert.That(half.Rows, Is.LessThan(all.Rows));
        Assert.That(half.Rows, Is.EqualTo(again.Rows));
        using var a = torch.cat(half.ReadChunks().ToList(), 0);
        using var b = torch.cat(again.ReadChunks().ToList(), 0);
        Assert.That(a.eq(b).all().item<bool>(), Is.True);
        // ceil(5 * 0.3) = 2 utterances from each of the two shards
        Assert.That(a.shape[0], Is.EqualTo(half.Rows));
        Assert.That(infos.Sum(i => i.Frames), Is.EqualTo(all.Rows));
    }

    private sealed class NaNReader(string poisonIndexOf) : IUtteranceFeatureReader
    {
        private readonly Mfcc39FeatureReader _inner = new();

        public int Dimension => 39;

        public string Description => "nan-test";

        public long FrameCount(long samples) => _inner.FrameCount(samples);

        public IReadOnlyList<Tensor> Read(AudioBatch batch, CancellationToken cancellationToken = default)
        {
            var t = _inner.Read(batch, cancellationToken);
            for (var r = 0; r < batch.Count; r++)
                if (batch.Paths[r] == poisonIndexOf) t[r][5, 1] = torch.tensor(float.NaN);
            return t;
        }
    }
}

/// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class InlineProgress<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
