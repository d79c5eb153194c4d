using HArnESS.Data;
using HArnESS.Distillation.Losses;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Pretraining;

/// <summary>
/// HuBERT masked pre-training as a trainer objective: each batch draws a span mask (from the step's
/// <see cref="TrainingStepContext.Generator"/>, so a resumed run masks the same frames), runs the encoder with the
/// masked frames replaced by <c>masked_spec_embed</c>, scores its last layer against the unit codebook of a
/// <see cref="MaskedPredictionHead"/> and returns <see cref="MaskedPredictionLoss"/> on the batch's unit labels
/// (<c>.km</c>), mapped to the encoder's frames. It is also its own validation metric: the masked-prediction accuracy
/// (share of masked valid frames whose argmax code is the label) over the validation batches.
/// </summary>
/// <remarks>Loss terms: <c>loss</c> (what is trained: <see cref="LossTerms.Total"/> of the masked-prediction loss)
/// and, logged with weight 0, <c>masked_ce</c>, <c>unmasked_ce</c>, <c>feature_penalty</c> and
/// <c>masked_accuracy</c> (of the training batch). Train the modules of <see cref="Modules"/>.</remarks>
public sealed class MaskedPretrainingObjective : ITrainingObjective<AudioBatch>, IValidationMetric<AudioBatch>
{
    private readonly MaskedPredictionLoss _loss;
    private readonly double _ratio;
    private long _correct, _count;

    /// <summary>Creates the objective.</summary>
    /// <param name="encoder">The model being pre-trained; its config must have a mask embedding
    /// (<see cref="SpeechEncoderConfig.MaskTimeProb"/> &gt; 0).</param>
    /// <param name="head">The masked-prediction head on its last layer (its class count = the number of units).</param>
    /// <param name="options">Masking, label alignment and loss weights; null = defaults.</param>
    /// <exception cref="HArnessValidationException">An option is invalid, the encoder has no mask embedding, or the
    /// head reads another width than the encoder's (every problem named).</exception>
    public MaskedPretrainingObjective(SpeechEncoder encoder, MaskedPredictionHead head, MaskedPretrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(head);
        Options = options ?? new MaskedPretrainingOptions();
        Options.Validate();
        var e = new ValidationErrors();
        e.Require(encoder.Config.HasMaskEmbedding, "Encoder.MaskTimeProb",
            $"The encoder has no masked_spec_embed (MaskTimeProb = {encoder.Config.MaskTimeProb}); set MaskTimeProb > 0 in its config to pre-train it by masked prediction.");
        e.Require(head.Dim == encoder.HiddenSize, "Head.Dim", $"The head reads {head.Dim} features but the encoder is {encoder.HiddenSize} wide.");
        e.ThrowIfAny(nameof(MaskedPretrainingObjective));
        Encoder = encoder;
        Head = head;
        _loss = new MaskedPredictionLoss(Options.Loss);
        FrameRate = FrameRateOf(encoder.Config);
        _ratio = (Options.LabelRate ?? FrameRate) / FrameRate;
    }

    /// <summary>The encoder being pre-trained.</summary>
    public SpeechEncoder Encoder { get; }

    /// <summary>The masked-prediction head.</summary>
    public MaskedPredictionHead Head { get; }

    /// <summary>The options in use.</summary>
    public MaskedPretrainingOptions Options { get; }

    /// <summary>The encoder's output frames per second (from its front-end's frame formula over 100 s).</summary>
    public double FrameRate { get; }

    /// <summary>The modules to give the trainer: <c>encoder</c> and <c>head</c>.</summary>
    public IReadOnlyList<TrainableModule> Modules => [new("encoder", Encoder), new("head", Head)];

    /// <inheritdoc/>
    public string Name => "masked_accuracy";

    /// <inheritdoc/>
    public bool HigherIsBetter => true;

    /// <summary>Output frames per second of an encoder config: its front-end's frame count for 100 s of audio / 100
    /// (50 for HuBERT's CNN; the label rate of labels made from one of its layers).</summary>
    /// <param name="config">The encoder config.</param>
    public static double FramesPerSecond(SpeechEncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return FrameRateOf(config);
    }

    private static double FrameRateOf(SpeechEncoderConfig config) =>
        config.FrontEnd.OutputFrames(100L * config.SampleRate) / 100.0;

    /// <inheritdoc/>
    public TrainingLoss Compute(AudioBatch batch, TrainingStepContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        using var step = Forward(batch, context);
        using var terms = _loss.Compute(step.Logits, step.Labels, step.Mask, step.Valid, step.Features);
        var acc = MaskedPredictionAccuracy.Compute(step.Logits, step.Labels, step.Mask, step.Valid);
        var list = new List<LossTerm> { new("loss", terms.Total.alias()) };
        foreach (var name in terms.Names) list.Add(new LossTerm(name, terms.Terms[name].detach(), 0));
        list.Add(new LossTerm("masked_accuracy", torch.tensor(acc.Count == 0 ? 0.0 : acc.Value, ScalarType.Float32), 0));
        return new TrainingLoss(list, Math.Max(1, acc.Count));
    }

    /// <inheritdoc/>
    public void Reset() => (_correct, _count) = (0, 0);

    /// <inheritdoc/>
    public void Update(AudioBatch batch, TrainingStepContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        using var scope = NewDisposeScope();
        using var step = Forward(batch, context);
        var acc = MaskedPredictionAccuracy.Compute(step.Logits, step.Labels, step.Mask, step.Valid);
        _correct += acc.Correct;
        _count += acc.Count;
    }

    /// <inheritdoc/>
    public double Compute() => _count == 0 ? double.NaN : (double)_correct / _count;

    /// <summary>The counts behind <see cref="Compute()"/> since the last <see cref="Reset"/>.</summary>
    public MaskedPredictionAccuracy Accuracy => new(_correct, _count);

    /// <summary>Masked-prediction accuracy of the current weights over a held-out loader (eval mode, no grad; the
    /// training flag and grad mode are restored). Masks are drawn from a generator seeded with <paramref name="seed"/>.</summary>
    /// <param name="batches">Held-out batches with the label set <see cref="MaskedPretrainingOptions.LabelName"/>.</param>
    /// <param name="seed">Seed of the masks.</param>
    /// <param name="device">Device to run on; null = the encoder's.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>The summed counts over every batch.</returns>
    public MaskedPredictionAccuracy Evaluate(IEnumerable<AudioBatch> batches, long seed = 1, Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var dev = device ?? Encoder.parameters().First().device;
        var wasTraining = (Encoder.training, Head.training);
        Encoder.eval();
        Head.eval();
        var total = new MaskedPredictionAccuracy(0, 0);
        try
        {
            using var _ = no_grad();
            using var generator = new Generator((ulong)seed, CPU);
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var b = batch;
                using var scope = NewDisposeScope();
                using var step = Forward(b, dev, ScalarType.Float32, generator, null);
                total += MaskedPredictionAccuracy.Compute(step.Logits, step.Labels, step.Mask, step.Valid);
            }
        }
        finally
        {
            if (wasTraining.Item1) Encoder.train();
            if (wasTraining.Item2) Head.train();
        }
        return total;
    }

    private StepTensors Forward(AudioBatch batch, TrainingStepContext context) =>
        Forward(batch, context.Device, context.ComputeDType, context.Generator, context);

    private StepTensors Forward(AudioBatch batch, Device device, ScalarType dtype, Generator generator, TrainingStepContext? context)
    {
        var cfg = Encoder.Config;
        var waves = context is not null ? context.CastInput(batch.Waveforms) : batch.Waveforms.to(dtype, device, copy: true);
        var lengths = batch.Lengths.to(device);
        var frames = cfg.FrontEnd.OutputFrames(batch.Waveforms.shape[1]);
        var frameLengths = batch.LengthsArray.Select(cfg.FrontEnd.OutputFrames).ToArray();
        var labels = AlignLabels(batch, frameLengths, frames);
        using var frameLengthTensor = torch.tensor(frameLengths, ScalarType.Int64);
        var mask = SpanMasking.Compute(batch.Count, frames, frameLengthTensor, Options.MaskProbability, Options.MaskLength, Options.MinMasks, generator);
        var maskDev = mask.to(device);
        var output = Encoder.Forward(waves, lengths, null, maskDev);
        try
        {
            var logits = Head.forward(output.LastHiddenState).to_type(ScalarType.Float32);
            var valid = FrameMasks.FromLengths(output.FrameLengths, logits.shape[1]);
            return new StepTensors(logits, labels.to(device), maskDev, valid, output.FrontEndFeatures.alias(), output, [mask, labels]);
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>The batch's labels at the encoder's frames: cut to each row's crop, resampled from
    /// <see cref="MaskedPretrainingOptions.LabelRate"/>, length-checked.</summary>
    private Tensor AlignLabels(AudioBatch batch, long[] frameLengths, long frames)
    {
        var sampleRate = Encoder.Config.SampleRate;
        var (targets, lengths) = batch.UnitTargets(Options.LabelName, 0, Options.LabelRate ?? FrameRate, sampleRate);
        using (targets)
        using (lengths)
        {
            var t = targets.shape[1];
            var flat = targets.data<long>().ToArray();
            var lens = lengths.data<long>().ToArray();
            var rows = new IReadOnlyList<int>[batch.Count];
            for (var r = 0; r < batch.Count; r++)
            {
                var n = lens[r];
                var seq = new List<int>();
                for (long i = 0; ; i++)
                {
                    var j = (long)Math.Floor(i * _ratio + 1e-9);
                    if (j >= n) break;
                    seq.Add((int)flat[r * t + j]);
                }
                rows[r] = seq;
            }
            return FrameLabels.Pad(rows, frameLengths, frames, Options.LabelTolerance, 0,
                batch.Paths.Select((p, i) => $"{p} (manifest entry {batch.Indices[i]})").ToArray());
        }
    }

    private sealed record StepTensors(Tensor Logits, Tensor Labels, Tensor Mask, Tensor Valid, Tensor Features, EncoderOutput Output, Tensor[] Extra) : IDisposable
    {
        public void Dispose()
        {
            Logits.Dispose();
            Labels.Dispose();
            Mask.Dispose();
            Valid.Dispose();
            Features.Dispose();
            Output.Dispose();
            foreach (var t in Extra) t.Dispose();
        }
    }
}
