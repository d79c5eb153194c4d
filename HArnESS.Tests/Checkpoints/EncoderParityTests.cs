using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Tests.Encoders;
using NUnit.Framework;
using HArnESS.Serialization;
using static TorchSharp.torch;

namespace HArnESS.Tests.Checkpoints;

/// <summary>
/// Every layer of torchaudio's wav2vec2 (both forms) against HArnESS loading the same weights from each key layout.
/// Fixtures: scripts/fixtures/make_encoder_parity_fixtures.py.
/// </summary>
[TestFixture]
public sealed class EncoderParityTests
{
    private const double Tolerance = 1e-4;
    private static readonly int[] TinyStrides = [5, 4, 4, 2];

    private static string Parity(string name) => CheckpointFixtures.PathOf(Path.Combine("parity", name));

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var form in new[] { "base", "large" })
        {
            yield return new TestCaseData(form, $"{form}_torchaudio.pt", CheckpointLayout.TorchAudio).SetName($"Parity_{form}_torchaudio_pt");
            yield return new TestCaseData(form, $"{form}_torchaudio.safetensors", CheckpointLayout.TorchAudio).SetName($"Parity_{form}_torchaudio_safetensors");
            yield return new TestCaseData(form, $"{form}_hf", CheckpointLayout.HuggingFace).SetName($"Parity_{form}_hf_folder");
            yield return new TestCaseData(form, $"{form}_fairseq.pt", CheckpointLayout.Fairseq).SetName($"Parity_{form}_fairseq_pt");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void EveryLayerMatchesTorchaudio(string form, string file, CheckpointLayout layout)
    {
        // torchaudio files carry no config: heads and the tiny conv strides cannot be seen in the weights.
        var options = layout == CheckpointLayout.TorchAudio
            ? new CheckpointLoadOptions { NumHeads = 4, ConvStrides = TinyStrides }
            : null;
        var (encoder, report) = SpeechEncoder.LoadWithReport(Parity(file), options);
        using var _ = encoder;
        Assert.That(report.IsClean, Is.True, report.Describe());
        Assert.That(encoder.Config.LayerNormFirst, Is.EqualTo(form == "large"));
        Assert.That(encoder.Config.Cnn().Norm, Is.EqualTo(form == "large" ? ConvNormMode.LayerNorm : ConvNormMode.GroupNorm));

        using var expected = SafeTensors.Open(Parity($"{form}_outputs.safetensors"));
        using var speech = SafeTensors.Open(Parity("speech_1s.safetensors"));
        using var wave = speech.Load("waveform");
        var errors = new List<string>();

        using (var single = encoder.Forward(wave))
            Compare("single", single, expected, encoder.NumLayers, null, errors);

        using var batch = zeros(2, 16000);
        using var lengths = tensor(new long[] { 16000, 9600 });
        batch[0] = wave[0];
        batch[1, TensorIndex.Slice(0, 9600)] = wave[0, TensorIndex.Slice(4000, 13600)];
        using (var batched = encoder.Forward(batch, lengths))
        {
            using var expLengths = expected.Load("batch.frame_lengths");
            Assert.That(batched.FrameLengths.data<long>().ToArray(), Is.EqualTo(expLengths.data<long>().ToArray()));
            Compare("batch", batched, expected, encoder.NumLayers, expLengths.data<long>().ToArray(), errors);
        }
        TestContext.Progress.WriteLine($"parity {form}/{layout} ({file}): {string.Join(", ", errors)}");
    }

    private static void Compare(string tag, EncoderOutput output, SafeTensorsFile expected, int layers, long[]? valid, List<string> errors)
    {
        Check($"{tag}.features", output.FrontEndFeatures);
        for (int i = 0; i <= layers; i++)
            Check(i == 0 ? $"{tag}.hidden_0" : i == layers ? $"{tag}.final" : $"{tag}.layer_{i}", output.HiddenStates[i]);

        void Check(string key, Tensor actual)
        {
            using var exp = expected.Load(key);
            Assert.That(actual.shape, Is.EqualTo(exp.shape), key);
            double err = 0;
            for (int b = 0; b < exp.shape[0]; b++)
            {
                long n = valid?[b] ?? exp.shape[1];
                using var d = (actual[b, TensorIndex.Slice(0, n)] - exp[b, TensorIndex.Slice(0, n)]).abs().max();
                err = Math.Max(err, d.item<float>());
            }
            errors.Add($"{key}={err:E1}");
            Assert.That(err, Is.LessThanOrEqualTo(Tolerance), key);
        }
    }

    [Test]
    public void InferredConfigMatchesTheHuggingFaceConfig()
    {
        foreach (var form in new[] { "base", "large" })
        {
            var hf = HfConfigJson.Read(Parity($"{form}_hf/config.json"));
            using var contents = CheckpointLoader.LoadStateDict(Parity($"{form}_torchaudio.pt"),
                new CheckpointLoadOptions { NumHeads = 4, ConvStrides = TinyStrides });
            Assert.That(contents.ConfigSource, Is.EqualTo("inferred from tensor shapes"));
            var c = contents.Config;
            Assert.That(c.Cnn().Layers, Is.EqualTo(hf.Cnn().Layers), form);
            Assert.That((c.Cnn().Norm, c.Cnn().Bias, c.LayerNormFirst), Is.EqualTo((hf.Cnn().Norm, hf.Cnn().Bias, hf.LayerNormFirst)), form);
            Assert.That((c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize), Is.EqualTo((hf.HiddenSize, hf.NumLayers, hf.NumHeads, hf.IntermediateSize)), form);
            Assert.That((c.PosConvKernel, c.PosConvGroups), Is.EqualTo((hf.PosConvKernel, hf.PosConvGroups)), form);
            Assert.That(c.HasMaskEmbedding, Is.False, "torchaudio has no masked_spec_embed");
        }
    }

    [Test]
    public void FairseqConfigIsReadFromTheCheckpoint()
    {
        using var pre = CheckpointLoader.LoadStateDict(Parity("base_fairseq.pt"));
        Assert.That(pre.Layout, Is.EqualTo(CheckpointLayout.Fairseq));
        Assert.That(pre.ConfigSource, Is.EqualTo("fairseq cfg"));
        Assert.That(pre.Config.ModelType, Is.EqualTo("hubert"));
        Assert.That(pre.IgnoredKeys, Is.EquivalentTo(new[] { "final_proj.bias", "final_proj.weight", "label_embs_concat" }));
        using var ft = CheckpointLoader.LoadStateDict(Parity("large_fairseq.pt"));
        Assert.That(ft.Config.ModelType, Is.EqualTo("wav2vec2"));
        Assert.That(ft.Config.LayerNormFirst, Is.True);
        Assert.That(ft.IgnoredKeys, Is.EquivalentTo(new[] { "w2v_encoder.proj.bias", "w2v_encoder.proj.weight" }));
        Assert.That(ft.StateDict.Keys, Does.Contain("masked_spec_embed"));
    }

    [Test]
    public void HubertBasePresetHasTorchaudiosParameterCount()
    {
        var reference = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Parity("reference_counts.json")))
            .RootElement.GetProperty("hubert_base_parameters").GetInt64();
        Assert.That(reference, Is.EqualTo(94_370_944L));
        using var model = new SpeechEncoder(EncoderPresets.HubertBase);
        Assert.That(model.CountParameters(includeMaskEmbedding: false), Is.EqualTo(reference));
    }
}
