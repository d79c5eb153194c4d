using NUnit.Framework;
using HArnESS.Encoders;
using static TorchSharp.torch;

namespace HArnESS.Tests.Encoders;

/// <summary>The encoder's math against torchaudio 0.13 (tiny random models, padded batch), layer by layer.</summary>
public sealed class TorchaudioForwardTests
{
    [TestCase("tiny_post_ln", false)]
    [TestCase("tiny_pre_ln", true)]
    public void HiddenStatesMatchTorchaudio(string fixture, bool preLn)
    {
        using var f = ReferenceFixture.Load(fixture);
        var config = preLn ? EncoderPresets.TinyPreLn : EncoderPresets.TinyPostLn;
        using var model = new SpeechEncoder(config);
        model.eval();
        var loaded = model.LoadInto(f);
        var expectedNames = f.Tensors.Keys.Where(k => !k.StartsWith("input.") && !k.StartsWith("hidden.") && k != "frame_lengths");
        Assert.That(loaded, Is.EquivalentTo(expectedNames), "every torchaudio parameter maps to one HF-named parameter");
        Assert.That(model.named_parameters().Select(p => p.name).Except(loaded), Is.EquivalentTo(new[] { "masked_spec_embed" }));

        using var _ = no_grad();
        using var lengths = f["input.lengths"].to_type(ScalarType.Int64);
        using var output = model.Forward(f["input.waveforms"], lengths);
        Assert.That(output.FrameLengths.data<long>().ToArray(), Is.EqualTo(f["frame_lengths"].data<float>().Select(x => (long)x).ToArray()));
        Assert.That(output.HiddenStates, Has.Count.EqualTo(3));
        for (var i = 0; i < 2; i++)
            AssertClose(output.HiddenStates[i], f[$"hidden.{i}"], $"hidden state {i}");
        // Last state: torchaudio's forward() (pre-LN: final layer norm applied); post-LN equals extract_features.
        AssertClose(output.HiddenStates[2], f["hidden.final"], "last hidden state");
        if (!preLn) AssertClose(output.HiddenStates[2], f["hidden.2"], "last raw layer output");
    }

    private static void AssertClose(Tensor actual, Tensor expected, string what)
    {
        Assert.That(actual.shape, Is.EqualTo(expected.shape), what);
        using var diff = (actual - expected).abs().max();
        TestContext.Out.WriteLine($"{what}: max abs error {diff.item<float>():E2}");
        Assert.That(diff.item<float>(), Is.LessThan(1e-4f), what);
    }
}

internal static class ReferenceFixtureExtensions
{
    public static IReadOnlyList<string> LoadInto(this SpeechEncoder model, ReferenceFixture f) => f.LoadInto(model);
}
