using HArnESS.Distillation.Initialization;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using static TorchSharp.torch;

namespace HArnESS.Tests.Initialization;

/// <summary>The helpers on real HArnESS encoders' state dicts: keys and shapes load, and copied layers compute
/// what the teacher's computed.</summary>
public sealed class EncoderInitializationTests
{
    private static SpeechEncoderConfig Tiny(int hidden, int layers) => new()
    {
        FrontEnd = new CnnFrontEndConfig { Layers = [new ConvLayerSpec(16, 10, 5), new ConvLayerSpec(16, 3, 2)] },
        HiddenSize = hidden, NumLayers = layers, NumHeads = 4, IntermediateSize = 2 * hidden, PosConvKernel = 8, PosConvGroups = 4,
        HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0, LayerDrop = 0,
    };

    private static Dictionary<string, Tensor> State(SpeechEncoder e) =>
        e.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);

    [Test]
    public void FirstTwoLayersCopiedReproduceTheTeachersFirstTwoLayers()
    {
        using var teacher = new SpeechEncoder(Tiny(32, 4));
        using var student = new SpeechEncoder(Tiny(32, 2));
        teacher.eval();
        student.eval();
        var r = TeacherInitialization.FromTeacher(State(teacher), State(student), LayerMaps.FirstN(2));
        student.load_state_dict(r.State);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wave = randn(2, 800, generator: new Generator(4));
        using var t = teacher.Forward(wave);
        using var s = student.Forward(wave);
        for (var i = 0; i <= 2; i++)
            Assert.That(s.HiddenStates[i].allclose(t.HiddenStates[i], rtol: 1e-5, atol: 1e-5), Is.True, $"hidden state {i}");
    }

    [Test]
    public void PcaProjectedStateLoadsIntoAThinStudentAndIdentityKeepsTheModel()
    {
        using var teacher = new SpeechEncoder(Tiny(32, 2));
        teacher.eval();
        var thin = PcaInitialization.Project(State(teacher), linalg.qr(randn(32, 16, generator: new Generator(8))).Q, options: new PcaProjectionOptions
        {
            FfnRule = FfnWidthRule.TopRowsByNorm, StudentFfnDim = 32,
        });
        using var student = new SpeechEncoder(Tiny(16, 2));
        var (missing, unexpected) = student.load_state_dict(thin.State, strict: false);
        Assert.That(unexpected, Is.Empty);
        Assert.That(missing, Is.Empty);

        using var same = new SpeechEncoder(Tiny(32, 2));
        same.eval();
        same.load_state_dict(PcaInitialization.Project(State(teacher), eye(32)).State);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wave = randn(1, 800, generator: new Generator(5));
        using var a = teacher.Forward(wave);
        using var b = same.Forward(wave);
        Assert.That(b.LastHiddenState.allclose(a.LastHiddenState, rtol: 1e-4, atol: 1e-4), Is.True);
    }
}
