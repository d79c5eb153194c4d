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

        using var wave = randn(2, 4000) * 0.1;
        using var waveLengths = tensor(new long[] { 4000, 2500 });
        using var w = model.Forward(wave, waveLengths);
        Assert.That(w.HiddenStates[0].shape[1], Is.EqualTo(model.OutputFrames(4000)));
        Assert.That(w.FrameLengths.data<long>().ToArray(), Is.EqualTo(new[] { model.OutputFrames(4000), model.OutputFrames(2500) }));
    }

    [Test]
    public void FbankModelsComputeKaldiFbanksFromWaveforms()
    {
        using var model = Tiny(EncoderPresets.TinyFbank);
        using var _ = no_grad();
        using var wave = randn(2, 4000) * 0.1;
        using var lengths = tensor(new long[] { 4000, 2500 });
        using var o = model.Forward(wave, lengths);
        Assert.That(o.FrameLengths.data<long>().ToArray(), Is.EqualTo(new[] { model.OutputFrames(4000), model.OutputFrames(2500) }));
        // Same as feeding the Features area's Fbank output by hand.
        var (fb, fbLengths) = new HArnESS.Features.Fbank(HArnESS.Features.FbankOptions.Default80).Compute(wave, lengths);
        using (fb)
        using (fbLengths)
        using (var byHand = model.ForwardFeatures(fb, fbLengths))
            Assert.That(o.LastHiddenState.allclose(byHand.LastHiddenState, 0, 1e-6), Is.True);
    }

    [Test]
    public void FbankModelsUseTheFbankOptionsOfTheirConfig()
    {
        // The preprocessing is part of the config: 40 bins, 20 ms shift, no pre-emphasis.
        var options = HArnESS.Features.FbankOptions.Default80 with
        {
            NumMelBins = 40,
            Frame = new HArnESS.Features.FrameOptions { FrameShiftMs = 20, PreemphasisCoefficient = 0 },
        };
        using var model = SpeechEncoder.Create().FromPreset("tiny-fbank").WithFbankFrontEnd(melBins: 40, stack: 1, projectionDim: 32, options: options).Build();
        model.eval();
        using var _ = no_grad();
        using var wave = randn(2, 4000) * 0.1;
        using var lengths = tensor(new long[] { 4000, 2500 });
        using var o = model.Forward(wave, lengths);
        var frames = new[] { 4000L, 2500 }.Select(n => 1 + (n - 400) / 320).ToArray();
        Assert.That(o.FrameLengths.data<long>().ToArray(), Is.EqualTo(frames));
        Assert.That(model.OutputFrames(4000), Is.EqualTo(frames[0]));
        var (fb, fbLengths) = new HArnESS.Features.Fbank(options).Compute(wave, lengths);
        using (fb)
        using (fbLengths)
        using (var byHand = model.ForwardFeatures(fb, fbLengths))
            Assert.That(o.LastHiddenState.allclose(byHand.LastHiddenState, 0, 1e-6), Is.True);
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

    private static float MaxDiff(Tensor a, Tensor b)
    {
        using var d = (a - b).abs().max();
        return d.item<float>();
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
            Assert.That(MaxDiff(one.HiddenStates[i], full.HiddenStates[i]), Is.LessThan(1e-5f), $"state {i}");
        Assert.That(MaxDiff(none.HiddenStates[0], full.HiddenStates[0]), Is.LessThan(1e-5f));
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

    [TestCase("tiny-post-ln")]
    [TestCase("tiny-pre-ln")]
    public void FreshNormsStartAtUnitWeightAndZeroBias(string preset)
    {
        // Guards against TorchSharp norms with uninitialised affine parameters (GroupNorm in 0.107).
        for (var repeat = 0; repeat < 5; repeat++)
        {
            using var model = SpeechEncoder.FromPreset(preset);
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains("norm")))
            {
                var expected = name.EndsWith("weight") ? 1f : 0f;
                using var diff = (p - expected).abs().max();
                Assert.That(diff.item<float>(), Is.EqualTo(0f), name);
            }
            using var all = cat(model.parameters().Select(p => p.flatten()).ToArray());
            Assert.That(all.isfinite().all().item<bool>(), Is.True);
        }
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
