using HArnESS.Data;
using HArnESS.Encoders;
using HArnESS.Training;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Training;

public sealed class DemoCorpusTrainingTests
{
    /// <summary>Speaker identification over the corpus's 10 speakers: tiny encoder → mean over valid frames → linear.</summary>
    private sealed class SpeakerObjective(SpeechEncoder encoder, TorchSharp.Modules.Linear head) : ITrainingObjective<AudioBatch>
    {
        public TrainingLoss Compute(AudioBatch batch, TrainingStepContext context)
        {
            using var output = encoder.Forward(context.CastInput(batch.Waveforms), batch.Lengths.to(context.Device));
            var h = output.LastHiddenState;
            var valid = output.PaddingMask is null ? ones(h.shape[0], h.shape[1], 1, device: h.device)
                : output.PaddingMask.logical_not().unsqueeze(-1).to_type(h.dtype);
            var pooled = (h * valid).sum([1]) / valid.sum([1]).clamp_min(1);
            var ce = nn.functional.cross_entropy(head.forward(pooled).to_type(ScalarType.Float32), batch.ClassTargets("spk").to(context.Device));
            return TrainingLoss.Single(ce, "ce", batch.Count);
        }
    }

    [Test]
    public void ATinyEncodersSpeakerLossFallsOnTheDemoCorpus()
    {
        var dataset = AudioDataset.Load(Path.Combine(TestPaths.RepoRoot, "data", "demo", "train.tsv"), null, "spk");
        var loader = new AudioLoader(dataset, new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 8000, Crop = CropMode.Random, Seed = 3 });
        torch.manual_seed(5);
        using var encoder = new SpeechEncoder(EncoderPresets.TinyPostLn with { HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0 });
        using var head = nn.Linear(encoder.HiddenSize, dataset.Labels["spk"].Classes.Count);
        var options = new TrainerOptions { MaxSteps = 60, LearningRate = 1e-2, WeightDecay = 0, Schedule = LearningRateSchedule.WarmupLinear(5, 0.1) };
        using var trainer = new Trainer<AudioBatch>([new("encoder", encoder), new("head", head)], new SpeakerObjective(encoder, head),
            new AudioLoaderBatchSource(loader), options);
        var result = trainer.Run();
        var ce = result.History.Series("ce").Select(v => v.Value).ToArray();
        TestContext.Out.WriteLine($"ce first 15 mean {ce[..15].Average():F3}, last 15 mean {ce[^15..].Average():F3} (chance ln 10 = {Math.Log(10):F3})");
        Assert.That(ce[..15].Average(), Is.GreaterThan(2.0), "starts near chance");
        Assert.That(ce[^15..].Average(), Is.LessThan(Math.Min(Math.Log(10), ce[..15].Average()) * 0.9), "ends clearly below chance and below its start");
        Assert.That(result.History.Records[^1].Epoch, Is.EqualTo(3), "15 batches per epoch, 60 updates");
    }
}
