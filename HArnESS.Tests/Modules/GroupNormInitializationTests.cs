using HArnESS.Encoders;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Modules;

/// <summary>TorchSharp 0.107's nn.GroupNorm leaves its affine parameters uninitialised; ours must start at (1, 0).</summary>
public sealed class GroupNormInitializationTests
{
    [Test]
    public void AFreshGroupNormEncoderStartsWithUnitScaleAndZeroShiftAndFiniteOutputs()
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            using var scope = torch.NewDisposeScope();
            using var encoder = new SpeechEncoder(EncoderPresets.TinyPostLn);
            var state = encoder.state_dict();
            var weight = state["feature_extractor.conv_layers.0.layer_norm.weight"];
            var bias = state["feature_extractor.conv_layers.0.layer_norm.bias"];
            Assert.That(weight.eq(1).all().item<bool>(), Is.True, "group-norm weight must start at 1");
            Assert.That(bias.eq(0).all().item<bool>(), Is.True, "group-norm bias must start at 0");

            encoder.eval();
            using var noGrad = torch.no_grad();
            var output = encoder.Forward(torch.randn(2, 4000));
            Assert.That(output.HiddenStates.All(h => h.isfinite().all().item<bool>()), Is.True);
        }
    }
}
