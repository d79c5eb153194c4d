using System.Text.Json.Nodes;
using HArnESS.Checkpoints;
using HArnESS.Encoders;
using NUnit.Framework;
using HArnESS.Serialization;
using static TorchSharp.torch;

namespace HArnESS.Tests.Checkpoints;

[TestFixture]
public sealed class SpeechEncoderCheckpointTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => _dir = Path.Combine(Path.GetTempPath(), $"harness_ckpt_{Guid.NewGuid():N}");

    [TearDown]
    public void RemoveDir()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string Parity(string name) => CheckpointFixtures.PathOf(Path.Combine("parity", name));

    [TestCase("tiny-post-ln")]
    [TestCase("tiny-pre-ln")]
    public void ASavedStudentLoadsBackIdentically(string preset)
    {
        using var student = SpeechEncoder.FromPreset(preset);
        student.eval();
        student.Save(_dir);
        using var loaded = SpeechEncoder.Load(_dir);

        Assert.That(loaded.Config, Is.EqualTo(student.Config));
        var a = student.state_dict();
        var b = loaded.state_dict();
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        foreach (var (k, t) in a)
            Assert.That(b[k].bytes.ToArray(), Is.EqualTo(t.bytes.ToArray()), k);

        using var wave = randn(2, 4000) * 0.1;
        using var lengths = tensor(new long[] { 4000, 2500 });
        using var x = student.Forward(wave, lengths);
        using var y = loaded.Forward(wave, lengths);
        for (int i = 0; i < x.HiddenStates.Count; i++)
            Assert.That(y.HiddenStates[i].equal(x.HiddenStates[i]).all().item<bool>(), Is.True, $"hidden state {i}");

        // Saving the loaded model again writes the same bytes.
        var again = _dir + "_again";
        try
        {
            loaded.Save(again);
            Assert.That(File.ReadAllBytes(Path.Combine(again, "model.safetensors")),
                Is.EqualTo(File.ReadAllBytes(Path.Combine(_dir, "model.safetensors"))));
        }
        finally
        {
            Directory.Delete(again, true);
        }
    }

    [Test]
    public void AnFbankStudentRoundTripsThroughItsOwnConfig()
    {
        using var student = SpeechEncoder.FromPreset("tiny-fbank");
        student.eval();
        student.Save(_dir);
        using var loaded = SpeechEncoder.Load(_dir);
        Assert.That(loaded.Config, Is.EqualTo(student.Config));
        using var fbank = randn(1, 50, 80);
        using var x = student.ForwardFeatures(fbank);
        using var y = loaded.ForwardFeatures(fbank);
        Assert.That(y.LastHiddenState.equal(x.LastHiddenState).all().item<bool>(), Is.True);
    }

    [Test]
    public void SavedConfigHasTheFieldsTransformersNeeds()
    {
        using var student = new SpeechEncoder(EncoderPresets.TinyPreLn);
        student.Save(_dir);
        var o = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "config.json")))!.AsObject();
        Assert.That(o["architectures"]![0]!.GetValue<string>(), Is.EqualTo("Wav2Vec2Model"));
        Assert.That(o["model_type"]!.GetValue<string>(), Is.EqualTo("wav2vec2"));
        Assert.That(o["feat_extract_norm"]!.GetValue<string>(), Is.EqualTo("layer"));
        Assert.That(o["do_stable_layer_norm"]!.GetValue<bool>(), Is.True);
        Assert.That(o["conv_stride"]!.AsArray().Select(n => n!.GetValue<int>()), Is.EqualTo(new[] { 5, 2, 2, 2 }));
        // Without HArnESS's own block, the HF fields alone give back the same shape.
        o.Remove(HfConfigJson.HArnessConfigField);
        var parsed = HfConfigJson.Parse(o.ToJsonString());
        Assert.That(parsed with { }, Is.EqualTo(student.Config));
    }

    [Test]
    public void MisShapedTensorsAreRefusedByName()
    {
        var wrong = HfConfigJson.Read(Parity("base_hf/config.json")) with { IntermediateSize = 48 };
        var e = Assert.Throws<HArnessCheckpointException>(() =>
            SpeechEncoder.Load(Parity("base_hf"), new CheckpointLoadOptions { Config = wrong }).Dispose())!;
        Assert.That(e.Message, Does.Contain("mis-shaped")
            .And.Contain("encoder.layers.0.feed_forward.intermediate_dense.weight: model [48, 32], checkpoint [64, 32]"));
        Assert.That(e.FilePath, Does.EndWith("model.safetensors"));
    }

    [Test]
    public void LenientLoadingReportsInsteadOfFailing()
    {
        var wrong = HfConfigJson.Read(Parity("base_hf/config.json")) with { NumLayers = 3 };
        var (encoder, report) = SpeechEncoder.LoadWithReport(Parity("base_hf"), new CheckpointLoadOptions { Config = wrong, Lenient = true });
        using var _ = encoder;
        Assert.That(report.IsClean, Is.False);
        Assert.That(report.Missing, Does.Contain("encoder.layers.2.attention.q_proj.weight"));
        Assert.That(report.Unexpected, Is.Empty);
        Assert.That(report.Loaded, Is.EqualTo(encoder.state_dict().Count - report.Missing.Count));
    }

    [Test]
    public void MissingAndUnexpectedKeysAreNamed()
    {
        using var model = new SpeechEncoder(EncoderPresets.TinyPostLn);
        var sd = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        sd.Remove("encoder.layer_norm.bias");
        using var extra = zeros(3);
        sd["encoder.layers.9.surprise"] = extra;
        var e = Assert.Throws<HArnessCheckpointException>(() => model.LoadWeights(sd, source: "unit"))!;
        Assert.That(e.Message, Does.Contain("missing (1): encoder.layer_norm.bias")
            .And.Contain("unexpected (1): encoder.layers.9.surprise"));
    }

    [Test]
    public void AnUnknownGlobalInAFairseqCheckpointFailsTheLoadUnlessLenient()
    {
        var path = CheckpointFixtures.PathOf("unknown_global.pt");
        var e = Assert.Throws<HArnessCheckpointException>(() => CheckpointLoader.LoadStateDict(path).Dispose())!;
        Assert.That(e.Message, Does.Contain("omegaconf.dictconfig.DictConfig"));
    }

    [Test]
    public void HubertBaseShapesInferTheHubertBaseConfig()
    {
        using var model = new SpeechEncoder(EncoderPresets.HubertBase);
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => (IReadOnlyList<long>)kv.Value.shape);
        var c = ConfigInference.Infer(shapes, modelType: "hubert");
        var p = EncoderPresets.HubertBase;
        Assert.That(c.ConvLayers, Is.EqualTo(p.ConvLayers));
        Assert.That((c.ConvNorm, c.ConvBias, c.LayerNormFirst), Is.EqualTo((p.ConvNorm, p.ConvBias, p.LayerNormFirst)));
        Assert.That((c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize), Is.EqualTo((p.HiddenSize, p.NumLayers, p.NumHeads, p.IntermediateSize)));
        Assert.That((c.PosConvKernel, c.PosConvGroups, c.HasMaskEmbedding), Is.EqualTo((p.PosConvKernel, p.PosConvGroups, p.HasMaskEmbedding)));
    }

    [Test]
    public void ShardedSafetensorsLoadLikeOneFile()
    {
        Directory.CreateDirectory(_dir);
        File.Copy(Parity("base_hf/config.json"), Path.Combine(_dir, "config.json"));
        var all = SafeTensors.Load(Parity("base_hf/model.safetensors"));
        try
        {
            var keys = all.Keys.Order(StringComparer.Ordinal).ToList();
            var first = keys.Take(keys.Count / 2).ToDictionary(k => k, k => all[k]);
            var second = keys.Skip(keys.Count / 2).ToDictionary(k => k, k => all[k]);
            SafeTensors.Save(Path.Combine(_dir, "model-00001-of-00002.safetensors"), first);
            SafeTensors.Save(Path.Combine(_dir, "model-00002-of-00002.safetensors"), second);
            var map = new JsonObject();
            foreach (var k in first.Keys) map[k] = "model-00001-of-00002.safetensors";
            foreach (var k in second.Keys) map[k] = "model-00002-of-00002.safetensors";
            File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"), new JsonObject { ["weight_map"] = map }.ToJsonString());

            using var sharded = CheckpointLoader.LoadStateDict(_dir);
            using var single = CheckpointLoader.LoadStateDict(Parity("base_hf"));
            Assert.That(sharded.StateDict.Keys, Is.EquivalentTo(single.StateDict.Keys));
            foreach (var (k, t) in single.StateDict)
                Assert.That(sharded.StateDict[k].equal(t).all().item<bool>(), Is.True, k);
        }
        finally
        {
            foreach (var t in all.Values) t.Dispose();
        }
    }

    [Test]
    public void InferenceNamesWhatItCannotSee()
    {
        var e = Assert.Throws<HArnessCheckpointException>(() => CheckpointLoader.LoadStateDict(Parity("base_torchaudio.pt")).Dispose())!;
        Assert.That(e.Message, Does.Contain("stride of conv layer 1 (kernel 4)").And.Contain("ConvStrides"));
    }
}
