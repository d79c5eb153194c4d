using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Upstream;

namespace HArnESS.Downstream.Evaluation;

/// <summary>How <see cref="DownstreamSuite"/> trains and evaluates the five tasks on a corpus laid out as the demo
/// corpus (<c>{train,test}.tsv</c> with <c>.wrd</c>/<c>.emo</c>/<c>.dia</c>/<c>.spk</c>, <c>kws_{train,test}.tsv</c>
/// with <c>.kws</c>, <c>sv_trials.txt</c> over <c>test.tsv</c>).</summary>
public sealed record DownstreamSuiteOptions
{
    /// <summary>Every task the suite knows, in run order.</summary>
    public static IReadOnlyList<string> AllTasks { get; } = ["asr", "ser", "did", "kws", "sv"];

    /// <summary>The corpus folder (e.g. <c>data/demo</c>).</summary>
    public required string CorpusDirectory { get; init; }

    /// <summary>The tasks to run, a subset of <see cref="AllTasks"/>. Default all five.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = AllTasks;

    /// <summary>Upstream use: frozen (default), top layers or full fine-tuning, freeze period, layer combination.</summary>
    public UpstreamOptions Upstream { get; init; } = new();

    /// <summary>Passes over each classification / verification training set (SER, DID, KWS, SV), ≥ 1. Default 12.</summary>
    public int Epochs { get; init; } = 12;

    /// <summary>Passes over the ASR training set (CTC needs more than the classifiers), ≥ 1. Default 30.</summary>
    public int AsrEpochs { get; init; } = 30;

    /// <summary>The ASR head (convolution blocks before the CTC projection; its <see cref="AsrTaskOptions.LabelName"/>
    /// must be <c>wrd</c>, the suite's transcripts). Default two 128-channel blocks of kernel 5: a linear head on a tiny
    /// frozen upstream stays at chance on the demo corpus.</summary>
    public AsrTaskOptions AsrHead { get; init; } = new() { ConvLayers = 2 };

    /// <summary>Peak learning rate of the ASR head, &gt; 0; null = <see cref="HeadLearningRate"/>. Default null.</summary>
    public double? AsrHeadLearningRate { get; init; }

    /// <summary>Utterances per training and evaluation batch, ≥ 1. Default 8.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Peak learning rate of the heads (AdamW), &gt; 0. Default 3e-3.</summary>
    public double HeadLearningRate { get; init; } = 3e-3;

    /// <summary>Learning rate of the upstream when it trains (AdamW), &gt; 0. Default 3e-4.</summary>
    public double UpstreamLearningRate { get; init; } = 3e-4;

    /// <summary>Seeds the heads' initialisation (<c>torch.manual_seed</c>) and the loaders' shuffling. Default 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Weight of the SV term in the joint KWS + SV run (KWS has weight 1), &gt; 0. Default 1.</summary>
    public double MultiTaskSvWeight { get; init; } = 1.0;

    /// <summary>Keep a frozen upstream's hidden states of every training batch in memory after the first epoch
    /// instead of recomputing them (same values: a frozen upstream runs in eval mode without randomness, and
    /// the batches are not cropped). Default true.</summary>
    public bool CacheFrozenFeatures { get; init; } = true;

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">Values are out of range; every problem is listed.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(!string.IsNullOrWhiteSpace(CorpusDirectory), nameof(CorpusDirectory), $"{nameof(CorpusDirectory)} must be given.");
        e.Require(Tasks is { Count: > 0 } && Tasks.All(AllTasks.Contains) && Tasks.Distinct().Count() == Tasks.Count, nameof(Tasks),
            $"{nameof(Tasks)} must be distinct names from {string.Join(", ", AllTasks)}, got [{string.Join(", ", Tasks ?? [])}].");
        e.Require(Epochs >= 1, nameof(Epochs), $"{nameof(Epochs)} must be ≥ 1, got {Epochs}.");
        e.Require(AsrEpochs >= 1, nameof(AsrEpochs), $"{nameof(AsrEpochs)} must be ≥ 1, got {AsrEpochs}.");
        e.Require(BatchSize >= 1, nameof(BatchSize), $"{nameof(BatchSize)} must be ≥ 1, got {BatchSize}.");
        e.Require(HeadLearningRate > 0 && double.IsFinite(HeadLearningRate), nameof(HeadLearningRate), $"{nameof(HeadLearningRate)} must be positive and finite, got {HeadLearningRate}.");
        e.Require(UpstreamLearningRate > 0 && double.IsFinite(UpstreamLearningRate), nameof(UpstreamLearningRate), $"{nameof(UpstreamLearningRate)} must be positive and finite, got {UpstreamLearningRate}.");
        e.Require(MultiTaskSvWeight > 0 && double.IsFinite(MultiTaskSvWeight), nameof(MultiTaskSvWeight), $"{nameof(MultiTaskSvWeight)} must be positive and finite, got {MultiTaskSvWeight}.");
        e.Require(AsrHeadLearningRate is null || (AsrHeadLearningRate > 0 && double.IsFinite(AsrHeadLearningRate.Value)), nameof(AsrHeadLearningRate),
            $"{nameof(AsrHeadLearningRate)} must be positive and finite when given, got {AsrHeadLearningRate}.");
        if (AsrHead is null) e.Add(nameof(AsrHead), $"{nameof(AsrHead)} must be given.");
        else
        {
            e.Require(AsrHead.LabelName == "wrd", $"{nameof(AsrHead)}.{nameof(AsrTaskOptions.LabelName)}",
                $"{nameof(AsrHead)}.{nameof(AsrTaskOptions.LabelName)} must be 'wrd' (the suite trains on the .wrd transcripts), got '{AsrHead.LabelName}'.");
            try { AsrHead.Validate(); }
            catch (HArnessValidationException ex) { e.AddRange(ex.Errors, nameof(AsrHead)); }
        }
        if (Upstream is null) e.Add(nameof(Upstream), $"{nameof(Upstream)} must be given.");
        else
        {
            try { Upstream.Validate(); }
            catch (HArnessValidationException ex) { e.AddRange(ex.Errors, nameof(Upstream)); }
        }
        e.ThrowIfAny(nameof(DownstreamSuiteOptions));
    }
}
