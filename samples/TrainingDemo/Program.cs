// Trains a tiny speech encoder to identify the demo corpus's 10 speakers, with the HArnESS trainer: a live console
// progress line, validation accuracy on valid.tsv every 15 updates with the best checkpoint kept, checkpoints that
// resume (run it twice: the second run continues, or returns at once when finished), the loss history as CSV and
// its plot as PNG. Usage: dotnet run --project samples/TrainingDemo -c Release [-- --steps 150 --out runs/training-demo]
using System.Globalization;
using HArnESS.Data;
using HArnESS.Encoders;
using HArnESS.Reporting;
using HArnESS.Runtime;
using HArnESS.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

var steps = 150;
var output = Path.Combine("runs", "training-demo");
var data = FindDemo();
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--steps") steps = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    else if (args[i] == "--out") output = args[i + 1];
    else if (args[i] == "--data") data = args[i + 1];
}

HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Auto, Seed = 1 });
using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));

var train = AudioDataset.Load(Path.Combine(data, "train.tsv"), null, "spk");
var valid = AudioDataset.Load(Path.Combine(data, "valid.tsv"), null, "spk");
var trainSource = new AudioLoaderBatchSource(new AudioLoader(train, new AudioLoaderOptions { BatchSize = 8, MaxSampleSize = 16000, Seed = 1 }));
var validSource = new AudioLoaderBatchSource(new AudioLoader(valid, new AudioLoaderOptions { BatchSize = 8, Shuffle = false, Crop = CropMode.Start, MaxSampleSize = 32000 }));

torch.manual_seed(1);
using var encoder = new SpeechEncoder(EncoderPresets.TinyPostLn with { HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0 });
using var head = nn.Linear(encoder.HiddenSize, train.Labels["spk"].Classes.Count);
// Class ids come from the training speakers, for the validation batches too.
var objective = new SpeakerObjective(encoder, head, train.Labels["spk"].Classes);
var options = new TrainerOptions
{
    MaxSteps = steps,
    LearningRate = 1e-2,
    Schedule = LearningRateSchedule.WarmupCosine(10, finalScale: 0.05),
    MaxGradientNorm = 5,
    CheckpointDirectory = Path.Combine(output, "checkpoints"),
    CheckpointEvery = 30,
    ValidateEvery = 15,
    LoggerFactory = loggerFactory,
    RunConfig = new Dictionary<string, string> { ["model"] = "TinyPostLn + mean pooling + linear(spk)" },
};
var modules = new TrainableModule[] { new("encoder", encoder) { LearningRate = 5e-3 }, new("head", head) };
using var trainer = new Trainer<AudioBatch>(modules, objective, trainSource, options, validSource, objective);

var live = !Console.IsOutputRedirected;
var progress = new ConsoleProgress(p =>
{
    switch (p.Stage)
    {
        case TrainingStage.Training when live:
            Console.Write("\r" + Fit(p.ToString()));
            break;
        case TrainingStage.Training when p.Step % 10 == 0:
            Console.WriteLine(p);
            break;
        case TrainingStage.Training:
            break;
        default:
            if (live) Console.Write("\r" + new string(' ', Math.Max(0, Console.WindowWidth - 1)) + "\r");
            Console.WriteLine(p);
            break;
    }
});
var result = trainer.Run(progress);

var png = Path.Combine(output, "loss.png");
LossPlot.Save(result.History, png, new LossPlotOptions { Title = "Tiny encoder, demo-corpus speaker ID", Smoothing = 5, Terms = ["ce", "accuracy"] });
Console.WriteLine($"{result.Steps} updates ({result.Reason}); best validation accuracy {result.BestMetric:P1} at update {result.BestStep}" +
    (result.ResumedFromStep is { } r ? $" (resumed from update {r})" : ""));
Console.WriteLine($"checkpoints: {options.CheckpointDirectory}; loss history: {Path.Combine(options.CheckpointDirectory, "loss_history.csv")}; plot: {png}");
return 0;

static string Fit(string line)
{
    var width = Math.Max(40, Console.WindowWidth - 1);
    return line.Length > width ? line[..width] : line.PadRight(width);
}

static string FindDemo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "data", "demo", "train.tsv"))) return Path.Combine(dir.FullName, "data", "demo");
    return Path.Combine("data", "demo");
}

/// <summary>Speaker ID over mean-pooled encoder frames; also the validation metric (accuracy).</summary>
internal sealed class SpeakerObjective(SpeechEncoder encoder, TorchSharp.Modules.Linear head, IReadOnlyList<string> classes)
    : ITrainingObjective<AudioBatch>, IValidationMetric<AudioBatch>
{
    private long _correct, _total;

    public string Name => "accuracy";
    public bool HigherIsBetter => true;

    public TrainingLoss Compute(AudioBatch batch, TrainingStepContext context)
    {
        var logits = Logits(batch, context);
        var ce = nn.functional.cross_entropy(logits, batch.ClassTargets("spk", classes).to(context.Device));
        return TrainingLoss.Single(ce, "ce", batch.Count);
    }

    public void Reset() => (_correct, _total) = (0, 0);

    public void Update(AudioBatch batch, TrainingStepContext context)
    {
        using var scope = NewDisposeScope();
        var predicted = Logits(batch, context).argmax(1).cpu();
        _correct += predicted.eq(batch.ClassTargets("spk", classes)).sum().item<long>();
        _total += batch.Count;
    }

    public double Compute() => _total == 0 ? double.NaN : _correct / (double)_total;

    private Tensor Logits(AudioBatch batch, TrainingStepContext context)
    {
        using var output = encoder.Forward(context.CastInput(batch.Waveforms), batch.Lengths.to(context.Device));
        var h = output.LastHiddenState;
        var valid = output.PaddingMask is null ? ones(h.shape[0], h.shape[1], 1, device: h.device)
            : output.PaddingMask.logical_not().unsqueeze(-1).to_type(h.dtype);
        var pooled = (h * valid).sum([1]) / valid.sum([1]).clamp_min(Scalars.Of(1));
        return head.forward(pooled).to_type(ScalarType.Float32);
    }
}

internal sealed class ConsoleProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
