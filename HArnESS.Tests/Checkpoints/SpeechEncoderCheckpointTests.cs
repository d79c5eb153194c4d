using System.Text.Json.Nodes;
using HArnESS.Modules;
using Microsoft.Extensions.Logging;
using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Tests.Encoders;
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
        Assert.That(c.Cnn().Layers, Is.EqualTo(p.Cnn().Layers));
        Assert.That((c.Cnn().Norm, c.Cnn().Bias, c.LayerNormFirst), Is.EqualTo((p.Cnn().Norm, p.Cnn().Bias, p.LayerNormFirst)));
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

    // A 128-wide, 8-head model without config.json: width 128 is no published model's, so its heads cannot be seen.
    private static SpeechEncoderConfig Wide128 => EncoderPresets.TinyPostLn with
    {
        HiddenSize = 128, NumHeads = 8, IntermediateSize = 256, PosConvGroups = 4, MaskTimeProb = 0,
    };

    [Test]
    public void AConfigLessCheckpointOfAnUnpublishedWidthIsRefusedNamingTheOption()
    {
        // Before: loaded "clean" with 128 / 64 = 2 heads and outputs off by ~0.1.
        using var model = new SpeechEncoder(Wide128);
        model.eval();
        Directory.CreateDirectory(_dir);
        SafeTensors.Save(Path.Combine(_dir, "model.safetensors"), model.state_dict());
        var e = Assert.Throws<HArnessCheckpointException>(() => SpeechEncoder.Load(_dir).Dispose())!;
        Assert.That(e.Message, Does.Contain("width 128").And.Contain("CheckpointLoadOptions.NumHeads"));

        var logs = new CapturingLoggerFactory();
        var (loaded, report) = SpeechEncoder.LoadWithReport(_dir, new CheckpointLoadOptions { NumHeads = 8, LoggerFactory = logs });
        using var _ = loaded;
        Assert.That(report.IsClean, Is.True, report.Describe());
        Assert.That(loaded.Config.NumHeads, Is.EqualTo(8));
        var inferred = report.Inferred.Select(f => f.Option).ToList();
        Assert.That(inferred, Does.Not.Contain("NumHeads"), "given, not inferred");
        Assert.That(inferred, Does.Contain("FrontEnd.Layers[0].Stride").And.Contain("LayerNormFirst").And.Contain("ModelType"));
        Assert.That(logs.Warnings, Has.Count.EqualTo(report.Inferred.Count), "every inferred field is logged as a warning");
        Assert.That(logs.Warnings[0], Does.Contain("model.safetensors"));
        Assert.That(report.Describe(), Does.Contain("inferred config"));

        using var __ = no_grad();
        using var wave = randn(1, 3000) * 0.1;
        using var x = model.Forward(wave);
        using var y = loaded.Forward(wave);
        Assert.That(y.LastHiddenState.equal(x.LastHiddenState).all().item<bool>(), Is.True);
    }

    [Test]
    public void PublishedWidthsGetTheirHeadsAndSayItIsInferred()
    {
        using var model = new SpeechEncoder(EncoderPresets.DistilHubert);
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => (IReadOnlyList<long>)kv.Value.shape);
        var (config, inferred) = ConfigInference.InferWithFields(shapes);
        Assert.That(config.NumHeads, Is.EqualTo(12));
        Assert.That(inferred.Single(f => f.Option == "NumHeads").Value, Is.EqualTo("12"));
    }

    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        public List<string> Warnings { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel == LogLevel.Warning) owner.Warnings.Add(formatter(state, exception));
            }
        }
    }
}
