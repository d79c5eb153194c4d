using HArnESS.Checkpoints;
using HArnESS.Distillation.Losses;
using HArnESS.Distillation.Students;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Students;

/// <summary>The student module: forward shapes and frame lengths in both head modes and every front-end, the
/// prediction heads' arithmetic, save/load (the encoder loading alone), and the loss plumbing.</summary>
public sealed class DistillationStudentTests
{
    private static readonly SpeechEncoderConfig Tiny = EncoderPresets.TinyPostLn with { MaskTimeProb = 0, HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0 };

    /// <summary>A tiny teacher: the tiny CNN at width 32 with 4 layers (hop 80 → 200 frames per second).</summary>
    private static readonly SpeechEncoderConfig TinyTeacher = Tiny with { NumLayers = 4 };

    private static DistillationStudentConfig TinyHeads(int? compact = null) => new()
    {
        Encoder = Tiny, TeacherLayers = [2, 4], TeacherDim = 32, CompactDim = compact,
    };

    private static DistillationStudentConfig TinyLayerToLayer(LayerProjectionKind kind) => new()
    {
        Encoder = Tiny, Mode = StudentHeadMode.LayerToLayer, TeacherLayers = [1, 3], StudentLayers = [1, 2], TeacherDim = 32,
        Projection = kind, ProjectionRank = 8,
    };

    private static (Tensor Wave, Tensor Lengths) Batch()
    {
        using var g = new Generator(3);
        return (randn(2, 1600, generator: g) * 0.1, tensor(new long[] { 1600, 1000 }));
    }

    [Test]
    public void PredictionHeadsGiveOnePredictionPerTeacherLayerWithFrameLengths()
    {
        using var student = new DistillationStudent(TinyHeads());
        student.eval();
        var (wave, lengths) = Batch();
        using var _w = wave;
        using var _l = lengths;
        using var output = student.Forward(wave, lengths);
        long frames = Tiny.FrontEnd.OutputFrames(1600);
        Assert.That(output.Predictions, Has.Count.EqualTo(2));
        foreach (var p in output.Predictions) Assert.That(p.shape, Is.EqualTo(new[] { 2L, frames, 32L }));
        Assert.That(output.TeacherLayers, Is.EqualTo(new[] { 2, 4 }));
        Assert.That(output.FrameLengths.data<long>().ToArray(), Is.EqualTo(new[] { frames, Tiny.FrontEnd.OutputFrames(1000) }));
        Assert.That(output.ValidFrames.sum().item<long>(), Is.EqualTo(frames + Tiny.FrontEnd.OutputFrames(1000)));
    }

    [Test]
    public void PredictionHeadsComputeExpandGeluThenEachHeadsOwnLinear()
    {
        using var heads = new PredictionHeads(inputDim: 6, count: 3, innerDim: 4, outputDim: 5);
        using var g = new Generator(5);
        using var x = randn(2, 7, 6, generator: g);
        var ys = heads.forward(x);
        var sd = heads.state_dict();
        using var h = nn.functional.gelu(nn.functional.linear(x, sd["expand.weight"], sd["expand.bias"]));
        for (var i = 0; i < 3; i++)
        {
            using var slice = h.narrow(-1, 4L * i, 4);
            using var want = matmul(slice, sd["split_weight"][i]) + sd["split_bias"][i];
            Assert.That(ys[i].shape, Is.EqualTo(new[] { 2L, 7, 5 }));
            Assert.That((ys[i] - want).abs().max().item<float>(), Is.LessThan(1e-5f), $"head {i}");
            ys[i].Dispose();
        }
        Assert.That(sd["split_weight"].shape, Is.EqualTo(new[] { 3L, 4, 5 }), "s3prl SplitLinear weight [N, inner, out]");
    }

    [TestCase(LayerProjectionKind.Linear)]
    [TestCase(LayerProjectionKind.LowRank)]
    public void LayerToLayerMapsEachChosenStudentLayerThroughItsOwnProjection(LayerProjectionKind kind)
    {
        using var student = new DistillationStudent(TinyLayerToLayer(kind));
        student.eval();
        var (wave, lengths) = Batch();
        using var _w = wave;
        using var _l = lengths;
        using var output = student.Forward(wave, lengths);
        var projections = (LayerProjections)student.Heads;
        Assert.That(projections.Count, Is.EqualTo(2));
        for (var i = 0; i < 2; i++)
        {
            using var want = projections[i].forward(output.Encoder.HiddenStates[i + 1]);
            Assert.That((output.Predictions[i] - want).abs().max().item<float>(), Is.EqualTo(0f));
        }
        if (kind == LayerProjectionKind.LowRank) Assert.That(projections[0], Is.InstanceOf<LowRankProjection>());
        Assert.That(student.CountParameters() - student.CountParameters(includeHeads: false), Is.EqualTo(student.Config.CountHeadParameters()));
    }

    [Test]
    public void CompactedStudentsPredictKDimensions()
    {
        using var student = new DistillationStudent(TinyHeads(compact: 12));
        var (wave, lengths) = Batch();
        using var _w = wave;
        using var _l = lengths;
        using var output = student.Forward(wave, lengths);
        foreach (var p in output.Predictions) Assert.That(p.shape[2], Is.EqualTo(12));
    }

    [TestCase("cnn")]
    [TestCase("fbank")]
    [TestCase("subsampler")]
    public void EveryFrontEndTrainsWithTheRegressionLoss(string kind)
    {
        FrontEndConfig frontEnd = kind switch
        {
            "fbank" => new FbankFrontEndConfig { Stack = 2, ProjectionDim = 16 },
            "subsampler" => new Conv1dSubsamplerConfig { OutputChannels = 16 },
            _ => Tiny.FrontEnd,
        };
        // A 20 ms teacher (the fbank front-ends run at 50 Hz): the wav2vec2 CNN at width 32.
        var teacherConfig = Tiny with { FrontEnd = new CnnFrontEndConfig { Layers = ConvStack.Wav2Vec2WithDim(16).ToArray() }, NumLayers = 4 };
        var config = TinyHeads().WithFrontEnd(kind == "cnn" ? teacherConfig.FrontEnd : frontEnd);
        Assert.DoesNotThrow(() => config.ValidateAgainst(teacherConfig));
        using var teacher = new DistillationTeacher(new SpeechEncoder(teacherConfig));
        using var student = new DistillationStudent(config);
        using var g = new Generator(9);
        using var wave = randn(2, 8000, generator: g) * 0.1;
        using var lengths = tensor(new long[] { 8000, 6100 });
        using var t = teacher.Forward(wave, lengths, config.TeacherLayers);
        using var s = student.Forward(wave, lengths);
        using var aligned = s.AlignWithTeacher(t);
        Assert.That(aligned.Predictions[0].shape[1], Is.EqualTo(Math.Min(s.Predictions[0].shape[1], t.LastHiddenState.shape[1])));
        using var loss = new RegressionLoss().Compute(aligned.Predictions, aligned.Targets, aligned.ValidFrames, aligned.TeacherLayers);
        Assert.That(loss.Names, Is.EqualTo(new[] { "rec_l2", "sim_l2", "rec_l4", "sim_l4" }));
        loss.Total.backward();
        var grad = student.Heads.parameters().First().grad;
        Assert.That(grad, Is.Not.Null);
        Assert.That(grad!.abs().sum().item<float>(), Is.GreaterThan(0f));
        Assert.That(teacher.Encoder.parameters().All(p => p.grad is null), "the teacher is frozen");
    }

    [Test]
    public void SavedStudentLoadsBackAndItsEncoderLoadsAlone()
    {
        using var dir = TestPaths.NewTempDirectory();
        using var student = new DistillationStudent(TinyLayerToLayer(LayerProjectionKind.LowRank));
        student.eval();
        student.Save(dir.Path);
        Assert.That(File.Exists(Path.Combine(dir.Path, DistillationStudent.HeadsFileName)));
        Assert.That(File.Exists(Path.Combine(dir.Path, SpeechEncoderCheckpoint.WeightsFileName)));
        var (wave, lengths) = Batch();
        using var _w = wave;
        using var _l = lengths;
        using var before = student.Forward(wave, lengths);
        using var loaded = DistillationStudent.Load(dir.Path);
        Assert.That(loaded.Config, Is.EqualTo(student.Config));
        using var after = loaded.Forward(wave, lengths);
        for (var i = 0; i < 2; i++) Assert.That((before.Predictions[i] - after.Predictions[i]).abs().max().item<float>(), Is.EqualTo(0f));
        using var alone = SpeechEncoder.Load(dir.Path);
        using var h = alone.Forward(wave, lengths);
        Assert.That((h.LastHiddenState - before.Encoder.LastHiddenState).abs().max().item<float>(), Is.EqualTo(0f));
        Assert.That(alone.state_dict().Keys.Any(k => k.Contains("projections")), Is.False, "the standalone encoder has no heads");
    }

    [Test]
    public void AStudentWrapsAnEncoderOfItsOwnConfigOnly()
    {
        using var encoder = new SpeechEncoder(Tiny with { NumLayers = 3 });
        Assert.Throws<ArgumentException>(() => new DistillationStudent(TinyHeads(), encoder));
        using var own = new SpeechEncoder(Tiny);
        using var student = new DistillationStudent(TinyHeads(), own);
        Assert.That(student.Encoder, Is.SameAs(own));
        Assert.That(student.state_dict().Keys, Has.Some.StartWith("encoder.feature_extractor.").And.Some.StartWith("heads.expand."));
        Assert.That(student.state_dict().Keys.Where(k => k.StartsWith("encoder.", StringComparison.Ordinal)).Select(k => k["encoder.".Length..]),
            Is.EquivalentTo(own.state_dict().Keys), "the encoder's keys below 'encoder.' are its own");
    }
}

/// <summary>Wang et al.'s two-stage front-end distillation: stage 1 matches the teacher's hidden_states[0].</summary>
public sealed class FrontEndStageTests
{
    [Test]
    public void StageOneTrainsOnlyTheFrontEndTowardsTheTeachersFirstLayerInput()
    {
        var teacherConfig = EncoderPresets.TinyPostLn with { MaskTimeProb = 0, NumLayers = 3 };
        var student = new DistillationStudentConfig
        {
            Encoder = EncoderPresets.TinyFbank with { MaskTimeProb = 0, FrontEnd = new FbankFrontEndConfig { Stack = 1, ProjectionDim = 16 } },
            TeacherLayers = [1, 3], TeacherDim = 32,
        };
        // The tiny CNN hops 80 samples (5 ms); a 10 ms fbank would not match it, so compare with the same rate.
        var stage = StudentPresets.FrontEndStage(student);
        Assert.That((stage.Mode, stage.TeacherLayers.Single(), stage.ResolvedStudentLayers.Single()), Is.EqualTo((StudentHeadMode.LayerToLayer, 0, 0)));
        Assert.That(Assert.Throws<HArnessValidationException>(() => stage.ValidateAgainst(teacherConfig))!.Errors.Select(e => e.Option), Is.EqualTo(new[] { "FrameRate" }));
        using var teacher = new DistillationTeacher(new SpeechEncoder(teacherConfig));
        var sameRate = StudentPresets.FrontEndStage(student with { Encoder = EncoderPresets.TinyPostLn with { MaskTimeProb = 0 } });
        Assert.DoesNotThrow(() => sameRate.ValidateAgainst(teacherConfig));
        using var model = new DistillationStudent(sameRate);
        var trained = model.FrontEndParameters();
        var names = model.named_parameters().Where(p => trained.Any(x => ReferenceEquals(x, p.parameter))).Select(p => p.name).ToArray();
        Assert.That(names, Has.None.Contains(".layers."), "transformer layers stay out of stage 1");
        Assert.That(names, Has.Some.StartWith("encoder.feature_extractor.").And.Some.StartWith("heads.").And.Some.StartWith("encoder.encoder.pos_conv_embed."));
        using var g = new Generator(2);
        using var wave = randn(2, 1600, generator: g) * 0.1;
        using var t = teacher.Forward(wave, null, sameRate.TeacherLayers);
        Assert.That(t.HiddenStates, Has.Count.EqualTo(1));
        var loss = new RegressionLoss(RegressionLossOptions.Mse);
        using var optimizer = optim.Adam(trained, lr: 1e-2);
        var layers = model.Encoder.named_parameters().Where(p => p.name.Contains(".layers.")).Select(p => p.parameter.detach().clone()).ToArray();
        double first = 0, last = 0;
        for (var step = 0; step < 10; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            using var s = model.Forward(wave);
            using var a = s.AlignWithTeacher(t);
            using var l = loss.Compute(a.Predictions, a.Targets, a.ValidFrames, a.TeacherLayers);
            l.Total.backward();
            optimizer.step();
            if (step == 0) first = l.Total.item<float>();
            last = l.Total.item<float>();
        }
        Assert.That(last, Is.LessThan(first * 0.8), $"stage-1 loss {first} → {last}");
        var after = model.Encoder.named_parameters().Where(p => p.name.Contains(".layers.")).Select(p => p.parameter).ToArray();
        for (var i = 0; i < layers.Length; i++) Assert.That(after[i].allclose(layers[i], rtol: 0, atol: 0), "transformer layers unchanged");
        foreach (var x in layers) x.Dispose();
        using var stage2 = new DistillationStudent(sameRate with { Mode = StudentHeadMode.PredictionHeads, TeacherLayers = [1, 3], StudentLayers = null }, model.Encoder);
        Assert.That(stage2.Encoder, Is.SameAs(model.Encoder));
    }
}
