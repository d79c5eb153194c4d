using HArnESS.Downstream.Data;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Downstream;

public sealed class UpstreamModelTests
{
    [Test]
    public void TrainableParametersFollowTheMode()
    {
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        var named = encoder.named_parameters().ToArray();
        string[] Names(UpstreamModel u) => u.TrainableParameters().Select(p => named.Single(n => ReferenceEquals(n.parameter, p)).name).ToArray();

        Assert.That(new UpstreamModel(encoder).TrainableParameters(), Is.Empty);
        var top = Names(new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.TopLayers, TrainableTopLayers = 1 }));
        Assert.That(top, Is.Not.Empty);
        Assert.That(top, Has.All.Contains("layers.1."), "only the top layer of two");
        var full = Names(new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.Full }));
        Assert.That(full, Has.None.StartsWith("feature_extractor"), "the CNN stays frozen by default");
        Assert.That(full, Has.Some.StartsWith("feature_projection").And.Some.Contains("layers.0."));
        var all = Names(new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.Full, FreezeFeatureExtractor = false }));
        Assert.That(all.Length, Is.GreaterThan(full.Length));

        var delayed = new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.Full, FreezeForUpdates = 5 });
        Assert.That(delayed.IsTrainedAt(4), Is.False);
        Assert.That(delayed.IsTrainedAt(5), Is.True);
        delayed.ApplyFreezing(0);
        Assert.That(encoder.parameters().Any(p => p.requires_grad), Is.False);
        delayed.ApplyFreezing(5);
        Assert.That(encoder.parameters().Count(p => p.requires_grad), Is.EqualTo(full.Length));

        var ex = Assert.Throws<HArnessValidationException>(() => new UpstreamModel(encoder, new UpstreamOptions { Training = UpstreamTraining.TopLayers, TrainableTopLayers = 3 }));
        Assert.That(ex!.Errors.Single().Option, Is.EqualTo("TrainableTopLayers"));
    }

    [Test]
    public void ExtractRestoresTheTrainingFlagAndGivesEveryHiddenState()
    {
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        encoder.train();
        var upstream = new UpstreamModel(encoder);
        using var scope = NewDisposeScope();
        using var f = upstream.Extract(randn(2, 4000) * 0.1, tensor(new long[] { 4000, 2500 }));
        Assert.That(encoder.training, Is.True, "the caller's training flag is restored");
        Assert.That(f.HiddenStates, Has.Count.EqualTo(upstream.NumHiddenStates));
        Assert.That(f.HiddenStates[0].requires_grad, Is.False, "a frozen upstream runs under no-grad");
        Assert.That(f.PaddingMask!.shape, Is.EqualTo(new[] { 2L, f.HiddenStates[0].shape[1] }));
        Assert.That(f.FrameLengths.data<long>().ToArray()[1], Is.EqualTo(encoder.OutputFrames(2500)));
    }
}

public sealed class TaskHeadTests
{
    private static UpstreamFeatures Fake(int layers, int b, int t, int d)
    {
        var hs = Enumerable.Range(0, layers).Select(_ => randn(b, t, d)).ToArray();
        var lengths = tensor(Enumerable.Range(0, b).Select(i => (long)(t - i)).ToArray());
        return new UpstreamFeatures(hs, PaddingMasks.FromLengths(lengths, t), lengths);
    }

    [Test]
    public void ClassificationHeadsRegisterOnlyWhatTheyTrain()
    {
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        var labels = new LabelSet(["a", "b", "c"]);
        using var weighted = new ClassificationTask("ser", "emo", labels, new UpstreamModel(encoder),
            new ClassificationTaskOptions { Pooling = PoolingKind.SelfAttention, HiddenDims = [8], ProjectionDim = 16 });
        using var single = new ClassificationTask("ser", "emo", labels, new UpstreamModel(encoder, new UpstreamOptions { WeightedSum = false, Layer = 1 }));
        Assert.That(weighted.named_parameters().Select(p => p.name), Has.Some.StartsWith("combiner."));
        Assert.That(single.named_parameters().Select(p => p.name), Has.None.StartsWith("combiner."));
        Assert.That(single.Combiner.LayerWeights(), Is.EqualTo(new double[] { 0, 1, 0 }));
        using var scope = NewDisposeScope();
        using var f = Fake(3, 4, 9, encoder.HiddenSize);
        Assert.That(weighted.Logits(f).shape, Is.EqualTo(new long[] { 4, 3 }));
        Assert.That(single.Predict(f), Has.Length.EqualTo(4).And.All.InRange(0, 2));
    }

    [Test]
    public void AsrAndSpeakerHeadsHaveTheirShapes()
    {
        using var encoder = SpeechEncoder.FromPreset("tiny-post-ln");
        var upstream = new UpstreamModel(encoder);
        var vocab = CharacterVocabulary.Build(["AB C", "نعم"]);
        using var asr = new AsrTask(vocab, upstream);
        using var sv = new SpeakerVerificationTask(new LabelSet(["s1", "s2"]), upstream,
            new SpeakerEmbeddingConfig { Channels = 8, Kernels = [3], Dilations = [1], StatsChannels = 8, AttentionDim = 4, EmbeddingDim = 6 }, aamMargin: null);
        asr.eval();
        sv.eval();
        using var scope = NewDisposeScope();
        using var f = Fake(3, 2, 12, encoder.HiddenSize);
        Assert.That(asr.LogProbs(f).shape, Is.EqualTo(new long[] { 2, 12, vocab.Count }));
        Assert.That(asr.Decode(f), Has.Length.EqualTo(2));
        Assert.That(asr.Decode(f, new HArnESS.Downstream.Decoding.CtcBeamSearchOptions { BeamWidth = 4 }), Has.Length.EqualTo(2));
        Assert.That(sv.Embed(f).shape, Is.EqualTo(new long[] { 2, 6 }));
        Assert.That(sv.LossName, Is.EqualTo("ce"));
    }
}
