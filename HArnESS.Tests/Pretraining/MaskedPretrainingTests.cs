using HArnESS.Data;
using HArnESS.Distillation.Pretraining;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Training;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Pretraining;

public sealed class MaskedPretrainingTests
{
    /// <summary>A tiny HuBERT-like encoder at 50 Hz (CNN stride 320), width 48, 2 layers, no dropout.</summary>
    internal static SpeechEncoderConfig Tiny50Hz { get; } = EncoderPresets.TinyPostLn with
    {
        FrontEnd = new CnnFrontEndConfig { Layers = [new(32, 10, 5), new(32, 3, 2), new(32, 3, 2), new(32, 3, 2), new(32, 3, 2), new(32, 2, 2), new(32, 2, 2)] },
        HiddenSize = 48, NumHeads = 4, IntermediateSize = 96, PosConvKernel = 16, PosConvGroups = 4, MaskTimeProb = 0.08,
        HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0,
    };

    internal static string Demo(string file) => Path.Combine(TestPaths.RepoRoot, "data", "demo", file);

    [Test]
    public void ATinyModelLearnsMfccUnitsAndBeatsChanceOnHeldOutUtterances()
    {
        using var dir = TestPaths.NewTempDirectory();
        const int k = 8;
        var train = Manifest.Load(Demo("train.tsv"));
        var valid = Manifest.Load(Demo("valid.tsv"));
        var targets = TargetGenerator.From(train).Mfcc39().KMeans(k, o => o with { NInit = 2, MaxIter = 30, Seed = 1 }).Into(Path.Combine(dir.Path, "t"));
        using var fitted = targets.FitAsync().GetAwaiter().GetResult();
        var validLabels = Path.Combine(dir.Path, "valid.km");
        HeldOutLabels.Write(new Mfcc39FeatureReader(), fitted.Pca, fitted.Codebook, valid, validLabels);

        torch.manual_seed(3);
        using var encoder = new SpeechEncoder(Tiny50Hz);
        using var head = new MaskedPredictionHead(encoder.HiddenSize, k, 32);
        var objective = new MaskedPretrainingObjective(encoder, head, new MaskedPretrainingOptions { LabelRate = 100, MaskProbability = 0.3 });
        var trainSet = new AudioDataset(train, null, [LabelFile.Load(fitted.LabelPath, train, LabelKind.Units)]);
        var validSet = new AudioDataset(valid, null, [LabelFile.Load(validLabels, valid, LabelKind.Units)]);
        var trainSource = new AudioLoaderBatchSource(new AudioLoader(trainSet, new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 24000, Seed = 2 }));
        var validSource = new AudioLoaderBatchSource(new AudioLoader(validSet, new AudioLoaderOptions { BatchSize = 12, Shuffle = false }));
        var options = new TrainerOptions { MaxSteps = 90, LearningRate = 3e-3, Schedule = LearningRateSchedule.WarmupLinear(10, 0.1), MaxGradientNorm = 5 };

        var before = objective.Evaluate(validSource.Read(0, 0, 0));
        using var trainer = new Trainer<AudioBatch>(objective.Modules, objective, trainSource, options, validSource, objective);
        var result = trainer.Run();
        var loss = result.History.Series("loss").Select(v => v.Value).ToArray();
        var after = result.BestMetric!.Value;
        TestContext.Out.WriteLine($"loss first 10 {loss[..10].Average():F3} → last 10 {loss[^10..].Average():F3}; held-out masked accuracy {before.Value:P1} before, {after:P1} after ({before.Count} masked frames), chance {1.0 / k:P1}");
        Assert.That(loss[^10..].Average(), Is.LessThan(loss[..10].Average() * 0.85), "the loss falls");
        Assert.That(after, Is.GreaterThan(2.0 / k), "held-out masked accuracy clearly beats chance (1/K)");
        Assert.That(after, Is.GreaterThan(before.Value + 0.1), "and beats the untrained model");
    }

    [Test]
    public void LabelsAtAnotherRateAreRefusedByName()
    {
        using var dir = TestPaths.NewTempDirectory();
        var valid = Manifest.Load(Demo("valid.tsv"));
        // MFCC labels are at 100 Hz; claiming they are at the encoder's 50 Hz gives twice the labels per frame.
        var km = Path.Combine(dir.Path, "valid.km");
        LabelFile.Save(km, valid.Entries.Select(e => string.Join(' ', Enumerable.Repeat("1", (int)new Mfcc39FeatureReader().FrameCount(e.NumSamples) / 4))));
        var set = new AudioDataset(valid, null, [LabelFile.Load(km, valid, LabelKind.Units)]);
        using var encoder = new SpeechEncoder(Tiny50Hz);
        using var head = new MaskedPredictionHead(encoder.HiddenSize, 4, 16);
        var objective = new MaskedPretrainingObjective(encoder, head, new MaskedPretrainingOptions { LabelRate = 100 });
        var source = new AudioLoaderBatchSource(new AudioLoader(set, new AudioLoaderOptions { BatchSize = 4, Shuffle = false }));
        var ex = Assert.Throws<HArnessDataException>(() => objective.Evaluate(source.Read(0, 0, 0)));
        Assert.That(ex!.Message, Does.Contain("labels but").And.Contain("manifest entry"));
    }

    [Test]
    public void AnEncoderWithoutMaskEmbeddingOrBadOptionsAreNamed()
    {
        using var encoder = new SpeechEncoder(Tiny50Hz with { MaskTimeProb = 0 });
        using var head = new MaskedPredictionHead(encoder.HiddenSize + 1, 4, 16);
        var ex = Assert.Throws<HArnessValidationException>(() => new MaskedPretrainingObjective(encoder, head));
        Assert.That(ex!.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "Encoder.MaskTimeProb", "Head.Dim" }));
        var bad = Assert.Throws<HArnessValidationException>(() => new MaskedPretrainingOptions { MaskProbability = 2, MaskLength = 0, LabelRate = -1 }.Validate());
        Assert.That(bad!.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "MaskProbability", "MaskLength", "LabelRate" }));
    }
}
