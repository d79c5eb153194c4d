using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Evaluation;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Downstream;

/// <summary>Every task through the public API on the demo corpus with the tiny preset as upstream: a few updates
/// (loss must fall), then an evaluation whose result renders in the comparison table. The tiny random upstream is a
/// pipeline check, not a quality claim.</summary>
[NonParallelizable]
public sealed class EndToEndTests
{
    private static string Demo(string name) => Path.Combine(TestPaths.RepoRoot, "data", "demo", name);

    private static (double First, double Last) Train(DownstreamObjective objective, IEnumerable<AudioLoader> loaders, int epochs, double lr,
        double upstreamLr = 1e-4)
    {
        var groups = new List<TorchSharp.Modules.AdamW.ParamGroup> { new(objective.HeadParameters(), new TorchSharp.Modules.AdamW.Options { LearningRate = lr }) };
        var up = objective.Upstream.TrainableParameters();
        if (up.Count > 0) groups.Add(new(up, new TorchSharp.Modules.AdamW.Options { LearningRate = upstreamLr }));
        using var opt = optim.AdamW(groups);
        foreach (var t in objective.Tasks) t.Task.Head.train();
        var losses = new List<double>();
        long update = 0;
        var loaderList = loaders.ToList();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var enumerators = loaderList.Select(l => { l.SetEpoch(epoch); return l.GetEnumerator(); }).ToList();
            using var disposeAll = new CompositeDisposable(enumerators);
            var epochLoss = new List<double>();
            // Alternating batches: one from each loader in turn until all are exhausted.
            for (var alive = true; alive;)
            {
                alive = false;
                foreach (var e in enumerators)
                {
                    if (!e.MoveNext()) continue;
                    alive = true;
                    using var scope = NewDisposeScope();
                    using var batch = e.Current;
                    opt.zero_grad();
                    var terms = objective.Compute(batch, update++);
                    var total = DownstreamObjective.Total(terms);
                    total.backward();
                    opt.step();
                    epochLoss.Add(total.item<float>());
                }
            }
            losses.Add(epochLoss.Average());
        }
        return (losses[0], losses[^1]);
    }

    private TempDirectory? _dir;

    [SetUp]
    public void MakeScratch() => _dir = TestPaths.NewTempDirectory();

    [TearDown]
    public void RemoveScratch() => _dir?.Dispose();

    /// <summary>Every k-th utterance of a demo split (so that every class and speaker can occur), as a manifest with
    /// its label files in the scratch folder: the tests train on a handful of utterances to stay fast.</summary>
    private AudioDataset Subset(string split, int count, params string[] labels) => Subset(split, count, _ => true, labels);

    private AudioDataset Subset(string split, int count, Func<ManifestEntry, bool> keep, params string[] labels)
    {
        var manifest = Manifest.Load(Demo(split + ".tsv"));
        var candidates = Enumerable.Range(0, manifest.Count).Where(i => keep(manifest.Entries[i])).ToArray();
        var step = Math.Max(1, candidates.Length / count);
        var picked = Enumerable.Range(0, Math.Min(count, candidates.Length)).Select(i => candidates[i * step % candidates.Length]).Distinct().ToArray();
        var tsv = Path.Combine(_dir!.Path, $"{split}-{count}.tsv");
        manifest.Select(picked).Save(tsv, absoluteRoot: true);
        foreach (var name in labels)
        {
            var file = LabelFile.LoadBeside(manifest, name);
            LabelFile.Save(Path.ChangeExtension(tsv, "." + name), picked.Select(i => file[i]));
        }
        return AudioDataset.Load(tsv, null, labels);
    }

    /// <summary>Batches cropped to the first 0.5 s (utterance labels survive a crop): enough for a pipeline check, cheap on a shared CPU.</summary>
    private static AudioLoader Loader(AudioDataset data, int batch, bool crop = true) =>
        new(data, new AudioLoaderOptions { BatchSize = batch, Seed = 3, MaxSampleSize = crop ? 8000 : null, Crop = CropMode.Start });

    [Test]
    public void SerTrainsFrozenAndEvaluates()
    {
        torch.manual_seed(1);
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        var upstream = new UpstreamModel(encoder);
        var train = Subset("train", 16, "emo");
        var labels = LabelSet.FromLabelFile(LabelFile.Load(Demo("train.emo")));
        using var task = new ClassificationTask("ser", "emo", labels, upstream, new ClassificationTaskOptions { Pooling = PoolingKind.AttentiveStatistics, AttentionDim = 16 });
        var objective = new DownstreamObjective(upstream, (task, 1.0));
        var before = encoder.parameters().Select(p => p.detach().clone()).ToList();
        var (first, last) = Train(objective, [Loader(train, 8)], epochs: 4, lr: 1e-2);
        Assert.That(last, Is.LessThan(first), "training loss falls");
        Assert.That(encoder.parameters().Zip(before).All(p => p.First.eq(p.Second).all().item<bool>()), Is.True, "a frozen upstream does not move");
        Assert.That(task.Combiner.LayerWeights().Sum(), Is.EqualTo(1).Within(1e-5));
        var result = DownstreamEvaluator.Evaluate("tiny", upstream, task, Subset("test", 8, "emo"));
        Assert.That(result.Count, Is.EqualTo(8));
        Assert.That(result["UA %"], Is.InRange(0, 100));
        Assert.That(result.UpstreamParameters, Is.EqualTo(encoder.CountParameters()));
        Assert.That(result.RealTimeFactor, Is.GreaterThan(0));
        TestContext.Out.WriteLine(EvaluationTable.ToMarkdown([result]));
    }

    [Test]
    public void AsrTrainsWithCtcAndDecodes()
    {
        torch.manual_seed(2);
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        var upstream = new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.TopLayers, TrainableTopLayers = 1, FreezeForUpdates = 3 });
        var vocab = CharacterVocabulary.Build(LabelFile.Load(Demo("train.wrd")));
        using var task = new AsrTask(vocab, upstream);
        var objective = new DownstreamObjective(upstream, (task, 1.0));
        var layer1 = upstream.TrainableParameters();
        Assert.That(layer1, Is.Not.Empty);
        var before = layer1.Select(p => p.detach().clone()).ToList();
        var (first, last) = Train(objective, [Loader(Subset("train", 10, e => e.RelativePath.Contains("_kw", StringComparison.Ordinal), "wrd"), 5, crop: false)], epochs: 3, lr: 1e-2, upstreamLr: 1e-3);
        Assert.That(last, Is.LessThan(first), "CTC loss falls");
        Assert.That(layer1.Zip(before).Any(p => !p.First.eq(p.Second).all().item<bool>()), Is.True, "the top layer trained after the freeze period");
        var result = DownstreamEvaluator.Evaluate("tiny", upstream, task, Subset("test", 6, e => e.RelativePath.Contains("_kw", StringComparison.Ordinal), "wrd"));
        Assert.That(result["WER %"], Is.GreaterThanOrEqualTo(0));
        Assert.That(result.Details, Is.InstanceOf<(HArnESS.Downstream.Metrics.ErrorRate, HArnESS.Downstream.Metrics.ErrorRate)>());
    }

    [Test]
    public void JointKwsAndSvFromAlternatingBatchesAndSideBySideTable()
    {
        torch.manual_seed(3);
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        var upstream = new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.Full });
        var kwsLabels = LabelSet.FromLabelFile(LabelFile.Load(Demo("kws_train.kws")));
        var speakers = LabelSet.FromLabelFile(LabelFile.Load(Demo("train.spk")));
        using var kws = new ClassificationTask("kws", "kws", kwsLabels, upstream);
        using var sv = new SpeakerVerificationTask(speakers, upstream,
            new SpeakerEmbeddingConfig { Channels = 32, Kernels = [3, 3], Dilations = [1, 2], StatsChannels = 32, AttentionDim = 16, EmbeddingDim = 16 });
        var objective = new DownstreamObjective(upstream, (kws, 1.0), (sv, 0.5));
        var kwsTrain = Subset("kws_train", 12, "kws");
        var svTrain = Subset("train", 12, "spk");
        using (var probeBatches = Loader(kwsTrain, 4).GetEnumerator())
        {
            Assert.That(probeBatches.MoveNext(), Is.True);
            using var probe = probeBatches.Current;
            var terms = objective.Compute(probe, 0);
            Assert.That(terms.Select(t => t.Name), Is.EqualTo(new[] { "kws.ce" }), "a batch feeds only the tasks whose labels it has");
        }
        var (first, last) = Train(objective, [Loader(kwsTrain, 6), Loader(svTrain, 6)], epochs: 3, lr: 3e-3);
        Assert.That(last, Is.LessThan(first));
        var kwsResult = DownstreamEvaluator.Evaluate("joint", upstream, kws, Subset("kws_test", 6, "kws"));
        var test = AudioDataset.Load(Demo("test.tsv"));
        var svResult = DownstreamEvaluator.Evaluate("joint", upstream, sv, test, TrialList.Load(Demo("sv_trials.txt"), test.Manifest));
        Assert.That(svResult.Count, Is.EqualTo(231));
        Assert.That(svResult["EER %"], Is.InRange(0, 100));
        var other = kwsResult with { Model = "frozen", Metrics = kwsResult.Metrics.Select(m => m with { Value = m.Value / 2 }).ToArray() };
        var table = EvaluationTable.ToMarkdown([kwsResult, svResult, other]);
        TestContext.Out.WriteLine(table);
        Assert.That(table, Does.Contain("| joint |").And.Contain("| frozen |").And.Contain("kws: UA %").And.Contain("sv: EER %"));
        Assert.That(table.Split('\n')[3], Does.Contain("–"), "the frozen model has no SV result");
    }
}

internal sealed class CompositeDisposable(IEnumerable<IDisposable> items) : IDisposable
{
    public void Dispose()
    {
        foreach (var i in items) i.Dispose();
    }
}
