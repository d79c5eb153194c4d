using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Evaluation;
using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using HArnESS.Training;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Downstream;

/// <summary>A downstream task trained by Core's <see cref="Trainer{TBatch}"/> on the demo corpus, end to end.</summary>
[NonParallelizable]
public sealed class TrainerIntegrationTests
{
    private static string Demo(string name) => Path.Combine(TestPaths.RepoRoot, "data", "demo", name);

    [Test]
    public void SpeakerIdentificationHeadTrainsWithTheTrainerAndEvaluates()
    {
        torch.manual_seed(7);
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        var upstream = new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.TopLayers, TrainableTopLayers = 1, FreezeForUpdates = 10 });
        var dataset = AudioDataset.Load(Demo("train.tsv"), null, "spk");
        var speakers = LabelSet.FromLabelFile(dataset.Labels["spk"]);
        using var task = new ClassificationTask("sid", "spk", speakers, upstream);
        var objective = new DownstreamTrainingObjective(new DownstreamObjective(upstream, (task, 1.0)));
        var modules = objective.TrainableModules(headLearningRate: 1e-2, upstreamLearningRate: 1e-3);
        Assert.That(modules.Select(m => m.Name), Is.EqualTo(new[] { "head-sid", "upstream" }));
        var loader = new AudioLoader(dataset, new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 8000, Crop = CropMode.Random, Seed = 3 });
        var options = new TrainerOptions { MaxSteps = 30, WeightDecay = 0, Schedule = LearningRateSchedule.WarmupLinear(3, 0.1) };
        using var trainer = new Trainer<AudioBatch>(modules, objective, new AudioLoaderBatchSource(loader), options);
        var result = trainer.Run();
        var ce = result.History.Series("sid.ce").Select(v => v.Value).ToArray();
        TestContext.Out.WriteLine($"sid.ce first 8 mean {ce[..8].Average():F3}, last 8 mean {ce[^8..].Average():F3} (chance ln 10 = {Math.Log(10):F3})");
        Assert.That(ce[^8..].Average(), Is.LessThan(ce[..8].Average()), "the loss falls");
        Assert.That(trainer.TrainedParameters, Has.Some.StartsWith("upstream.").And.Some.StartsWith("head-sid."));
        var eval = DownstreamEvaluator.Evaluate("tiny", upstream, task, AudioDataset.Load(Demo("valid.tsv"), null, "spk"));
        TestContext.Out.WriteLine(EvaluationTable.ToMarkdown([eval]));
        Assert.That(eval.Count, Is.EqualTo(23));
    }
}
