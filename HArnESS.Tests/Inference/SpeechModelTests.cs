using HArnESS.Audio;
using HArnESS.Encoders;
using HArnESS.Export;
using HArnESS.Inference;
using NUnit.Framework;
using static HArnESS.Tests.Export.OnnxTestSupport;
using static TorchSharp.torch;

namespace HArnESS.Tests.Inference;

/// <summary>HArnESS.Inference on exported tiny models: WAV in, hidden states and decoded heads out, checked against
/// the TorchSharp forward and heads computed with TorchSharp; named errors on bad input.</summary>
public sealed class SpeechModelTests
{
    private static readonly string[] Vocab = ["<pad>", "|", "a", "b", "c", "d", "e", "f"];
    private static readonly string[] Emotions = ["neutral", "happy", "sad", "angry"];

    private TempDirectory _dir = null!;
    private SpeechEncoder _encoder = null!;
    private Tensor _ctcW = null!, _ctcB = null!, _clsW = null!, _clsB = null!;
    private string _model = "";

    [OneTimeSetUp]
    public void ExportWithHeads()
    {
        _dir = TestPaths.NewTempDirectory();
        _encoder = RandomEncoder(EncoderPresets.TinyPostLn, seed: 21);
        var gen = new Generator(4);
        _ctcW = randn([Vocab.Length, 32], generator: gen);
        _ctcB = randn([Vocab.Length], generator: gen);
        _clsW = randn([Emotions.Length, 32], generator: gen);
        _clsB = randn([Emotions.Length], generator: gen);
        _model = OnnxExporter.Export(_encoder, _dir.File("student.onnx"), new OnnxExportOptions
        {
            Heads =
            [
                new OnnxHead { Kind = OnnxHeadKind.Ctc, Weight = _ctcW, Bias = _ctcB, Labels = Vocab },
                new OnnxHead { Kind = OnnxHeadKind.Classification, Weight = _clsW, Bias = _clsB, Labels = Emotions, Layer = 1 },
                new OnnxHead { Kind = OnnxHeadKind.SpeakerEmbedding },
            ],
        }).ModelPath;
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        foreach (var t in new[] { _ctcW, _ctcB, _clsW, _clsB }) t.Dispose();
        _encoder.Dispose();
        _dir.Dispose();
    }

    [Test]
    public void WavRunMatchesTorchSharpHiddenStatesAndHeads()
    {
        var wave = TestAudio(1, 6400, seed: 5);
        var samples = wave.Cast<float>().ToArray();
        var wav = _dir.File("a.wav");
        WavWriter.Write(wav, new AudioClip(samples, 16000), WavSampleFormat.Float32);
        using var model = SpeechModel.Load(_model);
        Assert.That(model.Info.SampleRate, Is.EqualTo(16000));
        var o = model.RunWav(wav);

        using var scope = NewDisposeScope();
        using var grad = no_grad();
        var t = _encoder.Forward(ToTensor(wave));
        Assert.That(o.FrameLengths, Is.EqualTo(ToDoubles(t.FrameLengths).Select(v => (long)v)));
        for (var i = 0; i <= 2; i++)
            Assert.That(MaxAbs(o.HiddenStates[i].Data.Select(v => (double)v).ToArray(), ToDoubles(t.HiddenStates[i])), Is.LessThanOrEqualTo(1e-4), $"layer {i}");

        // CTC: TorchSharp logits, arg-max, collapse, drop blank, '|' as space.
        var ids = nn.functional.linear(t.HiddenStates[2], _ctcW, _ctcB).argmax(-1).squeeze(0).data<long>().ToArray();
        var expected = new List<string>();
        for (var f = 0; f < ids.Length; f++)
            if (ids[f] != 0 && (f == 0 || ids[f] != ids[f - 1])) expected.Add(Vocab[ids[f]] == "|" ? " " : Vocab[ids[f]]);
        var text = string.Join(" ", string.Concat(expected).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.That(o.Transcripts![0], Is.EqualTo(text));
        Assert.That(text, Is.Not.Empty);

        // Classification on layer 1: mean over frames, Linear, softmax.
        var pooled = t.HiddenStates[1].mean([1]);
        var scores = nn.functional.softmax(nn.functional.linear(pooled, _clsW, _clsB), -1).squeeze(0);
        var best = (int)scores.argmax().item<long>();
        Assert.That(o.Classifications![0].Label, Is.EqualTo(Emotions[best]));
        Assert.That(MaxAbs(o.Classifications[0].Scores.Select(v => (double)v).ToArray(), ToDoubles(scores)), Is.LessThanOrEqualTo(1e-5));

        // Speaker embedding without a Linear: the mean of the last hidden state.
        Assert.That(MaxAbs(o.Embeddings![0].Select(v => (double)v).ToArray(), ToDoubles(t.HiddenStates[2].mean([1]).squeeze(0))), Is.LessThanOrEqualTo(1e-4));
    }

    [Test]
    public void PaddedBatchGivesEachUtteranceItsOwnResult()
    {
        // A layer-norm CNN (the group-norm one normalises over the padded length, in PyTorch as here).
        using var encoder = RandomEncoder(EncoderPresets.TinyPreLn, seed: 8);
        var path = OnnxExporter.Export(encoder, _dir.File("preln.onnx"), new OnnxExportOptions
        {
            Heads = [new OnnxHead { Kind = OnnxHeadKind.Ctc, Weight = _ctcW, Bias = _ctcB, Labels = Vocab }],
        }).ModelPath;
        using var model = SpeechModel.Load(path, new SpeechModelOptions { IntraOpNumThreads = 1 });
        var a = TestAudio(1, 6400, seed: 1).Cast<float>().ToArray();
        var b = TestAudio(1, 4000, seed: 2).Cast<float>().ToArray();
        var both = model.Run([a, b]);
        var alone = model.Run(b, 16000);
        var frames = (int)alone.FrameLengths[0];
        Assert.That(both.FrameLengths[1], Is.EqualTo(frames));
        var fromBatch = both.HiddenStates[2].Row(1, frames).ToArray();
        var single = alone.HiddenStates[2].Row(0, frames).ToArray();
        Assert.That(MaxAbs(fromBatch.Select(v => (double)v).ToArray(), single.Select(v => (double)v).ToArray()), Is.LessThanOrEqualTo(1e-4));
        Assert.That(both.Transcripts![1], Is.EqualTo(alone.Transcripts![0]));
    }

    [Test]
    public void FeatureInputModelsRunOnFbankFrames()
    {
        using var encoder = RandomEncoder(EncoderPresets.TinyFbank, seed: 12);
        var path = OnnxExporter.Export(encoder, _dir.File("feats.onnx"), new OnnxExportOptions { IncludeFbank = false }).ModelPath;
        using var model = SpeechModel.Load(path);
        Assert.That((model.Info.Input, model.Info.FeatureDim), Is.EqualTo(("features", 80)));
        var gen = new Generator(2);
        using var feats = randn([1, 37, 80], generator: gen);
        var array = new float[37, 80];
        Buffer.BlockCopy(feats.data<float>().ToArray(), 0, array, 0, 37 * 80 * sizeof(float));
        var o = model.RunFeatures([array, new float[20, 80]]);
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        var t = encoder.ForwardFeatures(feats);
        Assert.That(o.FrameLengths, Is.EqualTo(new long[] { 18, 10 }));
        Assert.That(MaxAbs(o.HiddenStates[2].Row(0, 18).ToArray().Select(v => (double)v).ToArray(), ToDoubles(t.HiddenStates[2])), Is.LessThanOrEqualTo(1e-4));
        Assert.Throws<HArnessInferenceException>(() => model.Run(new float[4000], 16000));
        Assert.Throws<ArgumentException>(() => model.RunFeatures([new float[5, 40]]));
    }

    [Test]
    public void OtherSampleRatesAreRefusedByName()
    {
        using var model = SpeechModel.Load(_model);
        var wav = _dir.File("8k.wav");
        WavWriter.Write(wav, new AudioClip(new float[8000], 8000));
        var e = Assert.Throws<HArnessSampleRateException>(() => model.RunWav(wav))!;
        Assert.That((e.ExpectedSampleRate, e.ActualSampleRate, e.FilePath), Is.EqualTo((16000, 8000, wav)));
        Assert.Throws<HArnessSampleRateException>(() => model.Run(new float[4000], 44100));
    }

    [Test]
    public void ShortInputsAndMissingSidecarsAreNamedErrors()
    {
        using (var model = SpeechModel.Load(_model))
        {
            var e = Assert.Throws<ArgumentException>(() => model.Run([new float[5000], new float[model.Info.MinSamples - 1]]))!;
            Assert.That(e.Message, Does.Contain("Utterance 1"));
            Assert.That(model.Run(new float[model.Info.MinSamples], 16000).FrameLengths[0], Is.EqualTo(1));
        }
        var lonely = _dir.File("lonely.onnx");
        File.Copy(_model, lonely);
        var f = Assert.Throws<HArnessInferenceFormatException>(() => SpeechModel.Load(lonely))!;
        Assert.That(f.FilePath, Is.EqualTo(_dir.File("lonely.json")));
        File.WriteAllText(_dir.File("lonely.json"), "{\"format\": \"something-else\"}");
        Assert.Throws<HArnessInferenceFormatException>(() => SpeechModel.Load(lonely));
    }

    [Test]
    public void WavReaderRejectsNonWavBytesAndAveragesChannels()
    {
        Assert.Throws<HArnessInferenceFormatException>(() => WavAudio.Parse("not a wav file at all"u8, "x.wav"));
        var path = _dir.File("stereo.wav");
        WavWriter.Write(path, new AudioClip([0.5f, -0.25f, 0.25f, 0.75f], 16000, channels: 2), WavSampleFormat.Pcm16);
        var audio = WavAudio.Read(path);
        Assert.That(audio.SourceChannels, Is.EqualTo(2));
        Assert.That(audio.Samples, Is.EqualTo(new[] { 0.125f, 0.5f }).Within(1e-4f));
    }

    [Test]
    public void GreedyCtcCollapsesRepeatsAndDropsBlanks()
    {
        // Frames' arg-max: a a <blank> a | b b  → "aa b"
        int[] best = [2, 2, 0, 2, 1, 3, 3];
        var logits = new float[best.Length * 4];
        for (var t = 0; t < best.Length; t++) logits[t * 4 + best[t]] = 1f;
        Assert.That(CtcGreedyDecoder.Decode(logits, best.Length, 4, ["_", "|", "a", "b"], 0, "|"), Is.EqualTo("aa b"));
        Assert.That(CtcGreedyDecoder.DecodeIndices(logits, 3, 4, 0), Is.EqualTo(new[] { 2 }));
    }
}
