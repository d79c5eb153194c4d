using HArnESS.Downstream.Evaluation;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Downstream;

/// <summary>The convolutional ASR head, the multi-task comparison report and the table's size formatting.</summary>
public sealed class AsrHeadAndComparisonTests
{
    [OneTimeSetUp]
    public void Init() => HArnESS.Runtime.HArnessRuntime.EnsureInitialized();

    /// <summary>A valid frame never sees padding: a padded batch gives each utterance's valid frames exactly as
    /// that utterance alone does, even with junk in the padding.</summary>
    [Test]
    public void TemporalConvStackIgnoresPadding()
    {
        torch.manual_seed(3);
        using var stack = new TemporalConvStack(6, layers: 2, channels: 6, kernel: 5);
        stack.eval();
        using var scope = NewDisposeScope();
        var a = randn(1, 9, 6);
        var b = randn(1, 4, 6);
        var batch = cat([a, cat([b, full(new long[] { 1, 5, 6 }, HArnESS.Tensors.Scalars.Of(1000.0))], 1)], 0);
        var mask = tensor(new[] { false, false, false, false, false, false, false, false, false, false, false, false, false, true, true, true, true, true }).reshape(2, 9);
        var outBatch = stack.forward(batch, mask);
        var outA = stack.forward(a, null);
        var outB = stack.forward(b, null);
        Assert.That(outBatch.shape, Is.EqualTo(new long[] { 2, 9, 6 }));
        Assert.That(outBatch[0].allclose(outA[0], rtol: 1e-5, atol: 1e-5), Is.True);
        Assert.That(outBatch[1, ..4].allclose(outB[0], rtol: 1e-5, atol: 1e-5), Is.True);
    }

    /// <summary>The kernel window is an ordinary same-padded convolution: checked against <c>conv1d</c> with the
    /// first block's weights rearranged to <c>[out, in, kernel]</c>.</summary>
    [Test]
    public void TemporalConvStackMatchesConv1d()
    {
        torch.manual_seed(4);
        using var stack = new TemporalConvStack(3, layers: 1, channels: 5, kernel: 3);
        using var scope = NewDisposeScope();
        var x = randn(2, 7, 3);
        var state = stack.state_dict();
        var w = state["convs.0.weight"].reshape(5, 3, 3); // [out, in·kernel] with kernel fastest → [out, in, kernel]
        var conv = nn.functional.conv1d(x.transpose(1, 2), w, state["convs.0.bias"], padding: 1).transpose(1, 2);
        var expected = nn.functional.layer_norm(nn.functional.gelu(conv), [5], state["norms.0.weight"], state["norms.0.bias"]);
        Assert.That(stack.forward(x, null).allclose(expected, rtol: 1e-5, atol: 1e-5), Is.True);
    }

    [Test]
    public void AsrTaskWithConvolutionsHasTheirParametersAndShapes()
    {
        torch.manual_seed(5);
        using var encoder = new SpeechEncoder(EncoderPresets.TinyFbank);
        var upstream = new UpstreamModel(encoder);
        var vocab = CharacterVocabulary.Build(["ab ba", "abc"]);
        using var plain = new AsrTask(vocab, upstream);
        using var conv = new AsrTask(vocab, upstream, new AsrTaskOptions { ConvLayers = 2, ConvChannels = 16, ConvKernel = 3 });
        Assert.That(plain.state_dict().Keys.Any(k => k.StartsWith("context.", StringComparison.Ordinal)), Is.False, "the default head is fairseq's linear projection");
        Assert.That(conv.state_dict().Keys.Where(k => k.StartsWith("context.", StringComparison.Ordinal)).ToList(), Has.Count.EqualTo(8));
        using var scope = NewDisposeScope();
        using var features = upstream.Extract(randn(2, 8000), tensor(new long[] { 8000, 5000 }));
        var lp = conv.LogProbs(features);
        Assert.That(lp.shape, Is.EqualTo(new[] { 2, features.HiddenStates[0].shape[1], vocab.Count }));
        Assert.That(lp.exp().sum(-1).allclose(ones(lp.shape[0], lp.shape[1]), atol: 1e-4), Is.True);
    }

    [Test]
    public void AsrOptionsReportEveryProblem()
    {
        var ex = Assert.Throws<HArnessValidationException>(() =>
            new AsrTaskOptions { LabelName = "", ConvLayers = -1, ConvChannels = 0, ConvKernel = 4, Dropout = 1 }.Validate())!;
        Assert.That(ex.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "LabelName", "ConvLayers", "ConvChannels", "ConvKernel", "Dropout" }));
        var suite = Assert.Throws<HArnessValidationException>(() => new DownstreamSuiteOptions
        {
            CorpusDirectory = "x", AsrHead = new AsrTaskOptions { LabelName = "ltr", ConvKernel = 2 }, AsrHeadLearningRate = -1,
        }.Validate())!;
        Assert.That(suite.Errors.Select(e => e.Option), Is.SupersetOf(new[] { "AsrHead.LabelName", "AsrHead.ConvKernel", "AsrHeadLearningRate" }));
    }

    private static EvaluationResult Result(string task, double value) => new()
    {
        Model = "m",
        Task = task,
        Metrics = task == "sv" ? [new MetricValue("EER %", value, false)] : [new MetricValue("acc %", value, true)],
        UpstreamParameters = 21_344,
        UpstreamMacsPerSecond = 1_234_000,
        RealTimeFactor = 0.01,
        AudioSeconds = 1,
    };

    [Test]
    public void MultiTaskComparisonRendersThreeRowsWithTheBestInBold()
    {
        var c = new MultiTaskComparison
        {
            Model = "HST",
            Frozen = [Result("kws", 40), Result("sv", 20)],
            SingleTask = [Result("kws", 70), Result("sv", 12)],
            Joint = [Result("kws", 60), Result("sv", 9)],
            SvWeight = 0.5,
        };
        var lines = c.ToMarkdown().Split('\n');
        Assert.That(lines[0], Does.Contain("SV weight 0.5"));
        Assert.That(lines[2], Is.EqualTo("| model | params (M) | GMACs/s | RTF | kws: acc % | sv: EER % |"));
        Assert.That(lines[4], Is.EqualTo("| HST frozen | 0.0213 | 0.00123 | 0.010 | 40.00 | 20.00 |"));
        Assert.That(lines[5], Is.EqualTo("| HST single-task fine-tuned | 0.0213 | 0.00123 | 0.010 | **70.00** | 12.00 |"));
        Assert.That(lines[6], Is.EqualTo("| HST joint multi-task | 0.0213 | 0.00123 | 0.010 | 60.00 | **9.00** |"));
        Assert.That(c.Rows().Select(r => r.Model).Distinct(), Is.EqualTo(new[] { "HST frozen", "HST single-task fine-tuned", "HST joint multi-task" }));
    }

    [Test]
    public void MultiTaskComparisonNamesAMissingOrDuplicatedTask()
    {
        var missing = new MultiTaskComparison { Model = "m", Frozen = [Result("kws", 1), Result("sv", 1)], SingleTask = [Result("kws", 1)], Joint = [Result("kws", 1), Result("sv", 1)] };
        var ex = Assert.Throws<ArgumentException>(() => missing.ToMarkdown())!;
        Assert.That(ex.ParamName, Is.EqualTo("SingleTask"));
        Assert.That(ex.Message, Does.Contain("[kws]").And.Contain("[kws, sv]"));
        var twice = missing with { SingleTask = [Result("kws", 1), Result("kws", 2)] };
        Assert.That(() => twice.Rows(), Throws.ArgumentException.With.Message.Contains("two results for task 'kws'"));
        var empty = missing with { SingleTask = [Result("kws", 1), Result("sv", 1)], Joint = [] };
        Assert.That(() => empty.Rows(), Throws.ArgumentException.With.Property("ParamName").EqualTo("Joint"));
    }

    [TestCase(0.0, "0")]
    [TestCase(0.0213441, "0.0213")]
    [TestCase(1.2345, "1.23")]
    [TestCase(94.68, "94.7")]
    [TestCase(316.6, "317")]
    public void TableSizesKeepThreeSignificantDigits(double value, string expected) =>
        Assert.That(EvaluationTable.Size(value), Is.EqualTo(expected));
}
