using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Encoders;

/// <summary>Shapes, lengths, masks, padding invariance, early stopping and masking of <see cref="SpeechEncoder"/>.</summary>
public sealed class SpeechEncoderForwardTests
{
    private static SpeechEncoder Tiny(SpeechEncoderConfig config)
    {
        var model = new SpeechEncoder(config);
        model.eval();
        return model;
    }

    // A stand-in featurizer for fbank models (25 ms / 10 ms frames, log energy of 80 slices) so waveform input
    // works before the Features area is wired; the fbank front-end only needs [batch, frames, 80].
    private static (Tensor, Tensor) FakeFbank(Tensor waveforms, Tensor lengths)
    {
        var frames = waveforms.unfold(1, EncoderCost.FbankWindowSamples, EncoderCost.FbankShiftSamples); // [B, F, 400]
        var feats = frames.narrow(2, 0, 400).reshape(frames.shape[0], frames.shape[1], 80, 5).square().sum(-1).add(1e-6).log();
        var l = (lengths - EncoderCost.FbankWindowSamples).div(EncoderCost.FbankShiftSamples, rounding_mode: RoundingMode.floor) + 1;
        return (feats, l.clamp_min(0));
    }

    [Test]
    public void CnnShapesLengthsAndPaddingMask()
    {
        using var model = Tiny(EncoderPresets.TinyPostLn);
        using var _ = no_grad();
        using var wave = randn(3, 2000);
        using var lengths = tensor(new long[] { 2000, 1500, 700 });
        using var o = model.Forward(wave, lengths);
        var frames = model.OutputFrames(2000);
        Assert.That(o.HiddenStates, Has.Count.EqualTo(3));
        foreach (var h in o.HiddenStates) Assert.That(h.shape, Is.EqualTo(new[] { 3L, frames, 32L }));
        var expected = new[] { 2000L, 1500, 700 }.Select(model.OutputFrames).ToArray();
        Assert.That(o.FrameLengths.data<long>().ToArray(), Is.EqualTo(expected));
        Assert.That(o.PaddingMask!.shape, Is.EqualTo(new[] { 3L, frames }));
        for (var b = 0; b < 3; b++)
            for (var t = 0; t < frames; t++)
                Assert.That(o.PaddingMask[b, t].item<bool>(), Is.EqualTo(t >= expected[b]), $"row {b} frame {t}");
        Assert.That(o.FrontEndFeatures.shape, Is.EqualTo(new[] { 3L, frames, 16L }));
    }

    [Test]
    public void WithoutLengthsEveryFrameIsValid()
    {
        using var model = Tiny(EncoderPresets.TinyPreLn);
        using var _ = no_grad();
        using var wave = randn(2, 1200);
        using var o = model.Forward(wave);
        Assert.That(o.PaddingMask, Is.Null);
        Assert.That(o.FrameLengths.data<long>().ToArray(), Is.EqualTo(new[] { model.OutputFrames(1200), model.OutputFrames(1200) }));
    }

    [Test]
    public void FbankShapesAndLengths()
    {
        using var model = Tiny(EncoderPresets.TinyFbank);
        using var _ = no_grad();
        using var feats = randn(2, 51, 80);
        using var lengths = tensor(new long[] { 51, 33 });
        using var o = model.ForwardFeatures(feats, lengths);
        Assert.That(o.HiddenStates[^1].shape, Is.EqualTo(new[] { 2L, 25L, 32L }));
        Assert.That(o.FrameLengths.data<long>().ToArray(), Is.EqualTo(new[] { 25L, 16L }));
        Assert.That(o.PaddingMask!.sum().item<long>(), Is.EqualTo(9));

        model.Featurizer = FakeFbank;
        using var wave = randn(2, 4000);
        using var waveLengths = tensor(new long[] { 4000, 2500 });
        using var w = model.Forward(wave, waveLengths);
        Assert.That(w.HiddenStates[0].shape[1], Is.EqualTo(model.OutputFrames(4000)));
        Assert.That(w.FrameLengths.data<long>().ToArray(), Is.EqualTo(new[] { model.OutputFrames(4000), model.OutputFrames(2500) }));
    }

    [Test]
    public void FbankModelWithoutFeaturizerSaysSo()
    {
        using var model = Tiny(EncoderPresets.TinyFbank);
        using var wave = randn(1, 1000);
        var e = Assert.Throws<ArgumentException>(() => model.Forward(wave))!;
        Assert.That(e.Message, Does.Contain("Featurizer"));
    }

    private static IEnumerable<TestCaseData> InvariantForms()
    {
        yield return new TestCaseData(EncoderPresets.TinyPreLn, false).SetName("PreLnLayerNormCnn");
        yield return new TestCaseData(EncoderPresets.TinyPreLn with { LayerNormFirst = false }, false).SetName("PostLnLayerNormCnn");
        yield return new TestCaseData(EncoderPresets.TinyFbank, true).SetName("PostLnFbank");
        yield return new TestCaseData(EncoderPresets.TinyFbank with { LayerNormFirst = true }, true).SetName("PreLnFbank");
    }

    [TestCaseSource(nameof(InvariantForms))]
    public void PaddedBatchMatchesSingleUtterances(SpeechEncoderConfig config, bool fbank)
    {
        using var model = Tiny(config);
        using var _ = no_grad();
        long[] lengths = fbank ? [60, 41, 17] : [2400, 1700, 900];
        var max = lengths.Max();
        using var batch = fbank ? randn(3, max, 80) : randn(3, max);
        using var lens = tensor(lengths);
        using var padded = fbank ? batch.clone() : batch.clone();
        for (var b = 0; b < 3; b++) // garbage (not zeros) in the padding must not matter
            if (lengths[b] < max) padded[b].narrow(0, lengths[b], max - lengths[b]).fill_(5.0);
        using var all = fbank ? model.ForwardFeatures(padded, lens) : model.Forward(padded, lens);
        for (var b = 0; b < 3; b++)
        {
            using var single = batch[b].narrow(0, 0, lengths[b]).unsqueeze(0);
            using var alone = fbank ? model.ForwardFeatures(single) : model.Forward(single);
            var valid = alone.HiddenStates[0].shape[1];
            Assert.That(all.FrameLengths[b].item<long>(), Is.EqualTo(valid));
            for (var i = 0; i < alone.HiddenStates.Count; i++)
            {
                using var diff = (all.HiddenStates[i][b].narrow(0, 0, valid) - alone.HiddenStates[i][0]).abs().max();
                Assert.That(diff.item<float>(), Is.LessThan(1e-5f), $"utterance {b}, hidden state {i}");
            }
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void StopAtLayerReturnsThePrefix(bool preLn)
    {
        using var model = Tiny(preLn ? EncoderPresets.TinyPreLn : EncoderPresets.TinyPostLn);
        using var _ = no_grad();
        using var wave = randn(2, 1600);
        using var full = model.Forward(wave);
        using var one = model.Forward(wave, stopAtLayer: 1);
        using var none = model.Forward(wave, stopAtLayer: 0);
        Assert.That(one.HiddenStates, Has.Count.EqualTo(2));
        Assert.That(none.HiddenStates, Has.Count.EqualTo(1));
        for (var i = 0; i < 2; i++)
            Assert.That(one.HiddenStates[i].allclose(full.HiddenStates[i], 0, 1e-6), Is.True, $"state {i}");
        Assert.That(none.HiddenStates[0].allclose(full.HiddenStates[0], 0, 1e-6), Is.True);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(wave, stopAtLayer: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(wave, stopAtLayer: -1));
    }

    [Test]
    public void PreLnAppliesTheFinalLayerNormOnlyToTheLastLayer()
    {
        using var model = Tiny(EncoderPresets.TinyPreLn);
        using var _ = no_grad();
        using var wave = randn(1, 1600);
        using var o = model.Forward(wave);
        // encoder.layer_norm has unit weight / zero bias at init, so the last state is standardised per frame.
        var last = o.HiddenStates[^1];
        Assert.That(last.mean([-1L]).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(o.HiddenStates[1].mean([-1L]).abs().max().item<float>(), Is.GreaterThan(1e-3f));
    }

    [Test]
    public void LayerDropInTrainingRepeatsTheSkippedLayersInput()
    {
        using var model = new SpeechEncoder(EncoderPresets.TinyPostLn with
        {
            LayerDrop = 0.999999, HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0,
        });
        model.train();
        using var _ = no_grad();
        using var wave = randn(1, 1600);
        using var o = model.Forward(wave);
        Assert.That(o.HiddenStates, Has.Count.EqualTo(3));
        Assert.That(o.HiddenStates[2].allclose(o.HiddenStates[0], 0, 0), Is.True);
        model.eval();
        using var e = model.Forward(wave);
        Assert.That(e.HiddenStates[2].allclose(e.HiddenStates[0]), Is.False, "no layer drop in eval");
    }

    [Test]
    public void TimeMaskReplacesOnlyValidFramesWithTheMaskEmbedding()
    {
        using var model = Tiny(EncoderPresets.TinyPreLn);
        using var _ = no_grad();
        using var wave = randn(2, 2000);
        using var lengths = tensor(new long[] { 2000, 1200 });
        var frames = model.OutputFrames(2000);
        using var plain = model.Forward(wave, lengths);
        using var none = zeros(2, frames, dtype: ScalarType.Bool);
        using var unmasked = model.Forward(wave, lengths, null, none);
        Assert.That(unmasked.LastHiddenState.allclose(plain.LastHiddenState, 0, 1e-6), Is.True);

        using var mask = model.ComputeTimeMask(2, frames, plain.FrameLengths, new Generator(5));
        using var masked = model.Forward(wave, lengths, null, mask);
        Assert.That(masked.LastHiddenState.allclose(plain.LastHiddenState, 0, 1e-4), Is.False);
        // Marking padded frames too changes nothing: padding is never replaced.
        using var withPadding = mask.logical_or(plain.PaddingMask!);
        using var masked2 = model.Forward(wave, lengths, null, withPadding);
        Assert.That(masked2.LastHiddenState.allclose(masked.LastHiddenState, 0, 1e-6), Is.True);
        Assert.Throws<ArgumentException>(() => model.Forward(wave, lengths, null, zeros(2, frames + 1, dtype: ScalarType.Bool)));
    }

    [Test]
    public void ModelsWithoutMaskEmbeddingRefuseTimeMasks()
    {
        using var model = Tiny(EncoderPresets.TinyPostLn with { MaskTimeProb = 0 });
        using var wave = randn(1, 1600);
        using var mask = ones(1, model.OutputFrames(1600), dtype: ScalarType.Bool);
        Assert.Throws<ArgumentException>(() => model.Forward(wave, null, null, mask));
        Assert.That(model.named_parameters().Any(p => p.name == "masked_spec_embed"), Is.False);
    }

    [Test]
    public void BadInputShapesAreRefused()
    {
        using var model = Tiny(EncoderPresets.TinyPostLn);
        using var wave3 = randn(1, 1, 1600);
        Assert.Throws<ArgumentException>(() => model.Forward(wave3));
        using var wave = randn(2, 1600);
        using var lengths = tensor(new long[] { 1600 });
        Assert.Throws<ArgumentException>(() => model.Forward(wave, lengths));
    }
}
