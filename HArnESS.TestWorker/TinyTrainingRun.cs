using HArnESS.Encoders;
using HArnESS.Training;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.TestWorker;

/// <summary>A small masked frame-classification run used by the trainer's tests and the worker's <c>train</c> verb: a tiny
/// post-LN <see cref="SpeechEncoder"/> with dropout, layer drop and span masking on, and a linear head predicting a
/// per-frame class (a deterministic function of the synthetic waveform's frame energy) at masked and unmasked frames.</summary>
public sealed class TinyTrainingRun : IDisposable
{
    /// <summary>Frame classes.</summary>
    public const int Classes = 4;

    /// <summary>Builds the model (seeded) and the in-memory data.</summary>
    /// <param name="seed">Seed of the weights and of the synthetic data.</param>
    /// <param name="utterances">Number of synthetic utterances.</param>
    /// <param name="batchSize">Batch size.</param>
    public TinyTrainingRun(int seed = 7, int utterances = 12, int batchSize = 4)
    {
        Config = EncoderPresets.TinyPostLn with
        {
            HiddenDropout = 0.1, AttentionDropout = 0.1, ActivationDropout = 0.1, FeatureProjectionDropout = 0.1,
            LayerDrop = 0.2, MaskTimeProb = 0.3, MaskTimeLength = 3, MaskTimeMinMasks = 1,
        };
        torch.manual_seed(seed);
        Encoder = new SpeechEncoder(Config);
        Head = nn.Linear(Config.HiddenSize, Classes);
        var rng = new Random(seed);
        Items = Enumerable.Range(0, utterances).Select(_ => MakeUtterance(rng)).ToArray();
        Source = new InMemoryBatchSource<Utterance, WaveBatch>(Items, batchSize, WaveBatch.From,
            audioSeconds: b => b.AudioSeconds, name: $"tiny synthetic, seed {seed}");
    }

    /// <summary>The encoder's config.</summary>
    public SpeechEncoderConfig Config { get; }

    /// <summary>The encoder.</summary>
    public SpeechEncoder Encoder { get; }

    /// <summary>The frame classifier.</summary>
    public TorchSharp.Modules.Linear Head { get; }

    /// <summary>The synthetic utterances.</summary>
    public IReadOnlyList<Utterance> Items { get; }

    /// <summary>The batch source.</summary>
    public InMemoryBatchSource<Utterance, WaveBatch> Source { get; }

    /// <summary>The modules as the trainer sees them.</summary>
    public IReadOnlyList<TrainableModule> Modules => [new("encoder", Encoder), new("head", Head)];

    /// <summary>The objective: cross-entropy at masked frames ("masked", weight 1) and at unmasked frames ("unmasked", weight 0.5).</summary>
    public ITrainingObjective<WaveBatch> Objective => new MaskedFrameObjective(this);

    /// <summary>All trained weights, as float32 CPU copies by <c>{module}.{parameter}</c>.</summary>
    public Dictionary<string, Tensor> Weights()
    {
        var d = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var m in Modules)
            foreach (var (n, p) in m.Module.named_parameters())
                d[$"{m.Name}.{n}"] = p.detach().cpu().to_type(ScalarType.Float32).clone();
        return d;
    }

    /// <summary>Disposes the modules.</summary>
    public void Dispose()
    {
        Encoder.Dispose();
        Head.Dispose();
    }

    private static Utterance MakeUtterance(Random rng)
    {
        var n = 1600 + 80 * rng.Next(0, 20);
        var wave = new float[n];
        var frames = (n - 400) / 80 + 1;
        for (var f = 0; f < (n + 79) / 80; f++)
        {
            var amp = (float)(0.05 + 0.3 * rng.NextDouble());
            var freq = 200 + 600 * rng.NextDouble();
            for (var i = f * 80; i < Math.Min(n, f * 80 + 80); i++) wave[i] = amp * (float)Math.Sin(2 * Math.PI * freq * i / 16000.0);
        }
        return new Utterance(wave);
    }

    private sealed class MaskedFrameObjective(TinyTrainingRun run) : ITrainingObjective<WaveBatch>
    {
        public TrainingLoss Compute(WaveBatch batch, TrainingStepContext context)
        {
            var wave = context.CastInput(batch.Waveforms);
            var lengths = batch.Lengths.to(context.Device);
            var frameLengths = tensor(batch.LengthsArray.Select(l => run.Encoder.OutputFrames(l)).ToArray());
            var frames = run.Encoder.OutputFrames(batch.Waveforms.shape[1]);
            using var mask = run.Encoder.ComputeTimeMask(batch.Waveforms.shape[0], frames, frameLengths, context.Generator);
            using var output = run.Encoder.Forward(wave, lengths, null, mask);
            var logits = run.Head.forward(output.LastHiddenState).to_type(ScalarType.Float32);
            var targets = FrameTargets(wave, frames, frameLengths).to(context.Device);
            var m = mask.to(context.Device);
            var maskedTargets = targets.masked_fill(m.logical_not(), Scalars.Of(-100));
            var unmaskedTargets = targets.masked_fill(m, Scalars.Of(-100));
            var flat = logits.reshape(-1, Classes);
            var masked = nn.functional.cross_entropy(flat, maskedTargets.reshape(-1), ignore_index: -100);
            var unmasked = nn.functional.cross_entropy(flat, unmaskedTargets.reshape(-1), ignore_index: -100);
            return new TrainingLoss([new LossTerm("masked", masked), new LossTerm("unmasked", unmasked, 0.5)], sampleSize: batch.Count);
        }

        // Class of a frame = quartile of its RMS energy over 0.05..0.35 amplitude; padded frames -100.
        private static Tensor FrameTargets(Tensor wave, long frames, Tensor frameLengths)
        {
            using var scope = NewDisposeScope();
            var w = wave.to_type(ScalarType.Float32).cpu();
            var usable = Math.Min(w.shape[1], frames * 80);
            var f = w[.., ..(int)usable].reshape(w.shape[0], -1, 80);
            var rms = f.pow(Scalars.Of(2)).mean([2]).sqrt().mul(Scalars.Of(Math.Sqrt(2)));
            var cls = rms.sub(Scalars.Of(0.05)).div(Scalars.Of(0.3)).mul(Scalars.Of(Classes)).floor().clamp(Scalars.Of(0), Scalars.Of(Classes - 1)).to_type(ScalarType.Int64);
            if (cls.shape[1] < frames) cls = nn.functional.pad(cls, [0, frames - cls.shape[1]], value: -100);
            cls = cls[.., ..(int)frames];
            var pad = Scalars.Arange(frames).unsqueeze(0) >= frameLengths.unsqueeze(1);
            return cls.masked_fill(pad, Scalars.Of(-100)).MoveToOuterDisposeScope();
        }
    }
}

/// <summary>One synthetic utterance.</summary>
/// <param name="Samples">16 kHz samples.</param>
public sealed record Utterance(float[] Samples);

/// <summary>A padded batch of synthetic utterances.</summary>
public sealed class WaveBatch : IDisposable
{
    private WaveBatch(Tensor waveforms, Tensor lengths, long[] lengthsArray)
    {
        Waveforms = waveforms;
        Lengths = lengths;
        LengthsArray = lengthsArray;
    }

    /// <summary>Padded samples <c>[batch, time]</c>.</summary>
    public Tensor Waveforms { get; }

    /// <summary>Valid samples <c>[batch]</c>.</summary>
    public Tensor Lengths { get; }

    /// <summary>Valid samples as an array.</summary>
    public long[] LengthsArray { get; }

    /// <summary>Rows.</summary>
    public int Count => LengthsArray.Length;

    /// <summary>Seconds of audio (16 kHz).</summary>
    public double AudioSeconds => LengthsArray.Sum() / 16000.0;

    /// <summary>Pads utterances into a batch.</summary>
    public static WaveBatch From(IReadOnlyList<Utterance> items)
    {
        var t = items.Max(i => i.Samples.Length);
        var data = new float[items.Count * t];
        for (var i = 0; i < items.Count; i++) items[i].Samples.CopyTo(data, i * t);
        var lengths = items.Select(i => (long)i.Samples.Length).ToArray();
        // Copies in libtorch's aligned memory (a tensor over a pinned managed array sums in an alignment-dependent order).
        using var wave = tensor(data, [items.Count, t]);
        using var len = tensor(lengths);
        return new WaveBatch(wave.clone(), len.clone(), lengths);
    }

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        Waveforms.Dispose();
        Lengths.Dispose();
    }
}
