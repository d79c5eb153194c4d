using System.Diagnostics;
using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Decoding;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Tasks;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Evaluation;

/// <summary>Runs an upstream and a task head over a labelled manifest (in order, no cropping, eval mode, no-grad;
/// the modules' training flags are restored) and returns an <see cref="EvaluationResult"/>.</summary>
public static class DownstreamEvaluator
{
    /// <summary>Evaluates a classification task: accuracy, UA, macro-F1 in percent (details: the <see cref="ClassificationReport"/>).</summary>
    /// <param name="model">Model label for the table.</param>
    /// <param name="upstream">The upstream.</param>
    /// <param name="task">The task.</param>
    /// <param name="dataset">Labelled audio (must carry the task's label set).</param>
    /// <param name="batchSize">Utterances per batch.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="HArnessDataException">A label is not in the task's label set.</exception>
    public static EvaluationResult Evaluate(string model, UpstreamModel upstream, ClassificationTask task, AudioDataset dataset, int batchSize = 8,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        var truth = new List<int>();
        var pred = new List<int>();
        var (seconds, audio) = Run(upstream, task, dataset, batchSize, cancellationToken, (f, b) =>
        {
            truth.AddRange(task.Targets(b).Select(t => (int)t));
            pred.AddRange(task.Predict(f));
        });
        var report = ClassificationReport.Compute(task.Labels.Classes, truth, pred);
        return Result(model, task.Name, upstream, seconds, audio, truth.Count, report,
            new MetricValue("acc %", 100 * report.Accuracy, true), new MetricValue("UA %", 100 * report.UnweightedAccuracy, true),
            new MetricValue("macro-F1 %", 100 * report.MacroF1, true));
    }

    /// <summary>Evaluates CTC recognition: WER and CER in percent after <paramref name="normalization"/> of both sides (details: (WER, CER) <see cref="ErrorRate"/> pair).</summary>
    /// <param name="model">Model label.</param>
    /// <param name="upstream">The upstream.</param>
    /// <param name="task">The task.</param>
    /// <param name="dataset">Audio with the task's transcripts.</param>
    /// <param name="normalization">Applied to references and hypotheses; null = the vocabulary's normalisation.</param>
    /// <param name="beam">Beam search options; null = greedy.</param>
    /// <param name="batchSize">Utterances per batch.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static EvaluationResult Evaluate(string model, UpstreamModel upstream, AsrTask task, AudioDataset dataset,
        TextNormalizationOptions? normalization = null, CtcBeamSearchOptions? beam = null, int batchSize = 8, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        var refs = new List<string>();
        var hyps = new List<string>();
        var (seconds, audio) = Run(upstream, task, dataset, batchSize, cancellationToken, (f, b) =>
        {
            refs.AddRange(task.Transcripts(b));
            hyps.AddRange(task.Decode(f, beam));
        });
        var norm = normalization ?? task.Vocabulary.Options.Normalization;
        var wer = ErrorRates.Word(refs, hyps, norm);
        var cer = ErrorRates.Character(refs, hyps, norm);
        return Result(model, task.Name, upstream, seconds, audio, refs.Count, (wer, cer),
            new MetricValue("WER %", wer.Percent, false), new MetricValue("CER %", cer.Percent, false));
    }

    /// <summary>Evaluates speaker verification: embeds every utterance of <paramref name="dataset"/>, scores the
    /// trials by cosine similarity and reports EER (percent) and minDCF (details: the <see cref="VerificationReport"/>).</summary>
    /// <param name="model">Model label.</param>
    /// <param name="upstream">The upstream.</param>
    /// <param name="task">The task.</param>
    /// <param name="dataset">The utterances the trials name (by manifest relative path).</param>
    /// <param name="trials">The trials.</param>
    /// <param name="scoring">Scoring options (normalisation needs <paramref name="cohort"/>).</param>
    /// <param name="cohort">Cohort embeddings for score normalisation.</param>
    /// <param name="dcf">DCF operating point.</param>
    /// <param name="batchSize">Utterances per batch.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="HArnessDataException">A trial names an utterance that is not in the dataset's manifest.</exception>
    public static EvaluationResult Evaluate(string model, UpstreamModel upstream, SpeakerVerificationTask task, AudioDataset dataset, TrialList trials,
        CosineScoringOptions? scoring = null, IReadOnlyList<float[]>? cohort = null, DcfOptions? dcf = null, int batchSize = 8,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(trials);
        var embeddings = Embeddings(upstream, task, dataset, batchSize, cancellationToken, out var seconds, out var audio);
        var report = CosineScorer.Evaluate(embeddings, trials, scoring, cohort, dcf);
        return Result(model, task.Name, upstream, seconds, audio, trials.Trials.Count, report,
            new MetricValue("EER %", 100 * report.Eer, false), new MetricValue("minDCF", report.MinDcf, false));
    }

    /// <summary>Embeddings of every utterance of a dataset, keyed by the manifest's relative path (as trial lists name them).</summary>
    /// <param name="upstream">The upstream.</param>
    /// <param name="task">The task.</param>
    /// <param name="dataset">The utterances.</param>
    /// <param name="batchSize">Utterances per batch.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static IReadOnlyDictionary<string, float[]> Embeddings(UpstreamModel upstream, SpeakerVerificationTask task, AudioDataset dataset,
        int batchSize = 8, CancellationToken cancellationToken = default) =>
        Embeddings(upstream, task, dataset, batchSize, cancellationToken, out _, out _);

    private static Dictionary<string, float[]> Embeddings(UpstreamModel upstream, SpeakerVerificationTask task, AudioDataset dataset, int batchSize,
        CancellationToken cancellationToken, out double seconds, out double audio)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        (seconds, audio) = Run(upstream, task, dataset, batchSize, cancellationToken, (f, b) =>
        {
            using var e = task.Embed(f).to(CPU).to_type(ScalarType.Float32).contiguous();
            var flat = e.data<float>().ToArray();
            var d = (int)e.shape[1];
            for (var r = 0; r < b.Count; r++)
                result[dataset.Manifest.Entries[b.Indices[r]].RelativePath] = flat.AsSpan(r * d, d).ToArray();
        });
        return result;
    }

    private static (double Seconds, double Audio) Run(UpstreamModel upstream, IDownstreamTask task, AudioDataset dataset, int batchSize,
        CancellationToken cancellationToken, Action<UpstreamFeatures, AudioBatch> onBatch)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var loader = new AudioLoader(dataset, new AudioLoaderOptions { BatchSize = batchSize, Shuffle = false, BucketByLength = false, Prefetch = 0 });
        var wasTraining = task.Head.training;
        task.Head.eval();
        double seconds = 0, audio = 0;
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in loader)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using (batch)
                {
                    var sw = Stopwatch.StartNew();
                    using var features = upstream.Extract(batch.Waveforms, batch.Lengths);
                    onBatch(features, batch);
                    seconds += sw.Elapsed.TotalSeconds;
                    audio += batch.LengthsArray.Sum() / (double)dataset.Options.SampleRate;
                }
            }
        }
        finally
        {
            task.Head.train(wasTraining);
        }
        return (seconds, audio);
    }

    private static EvaluationResult Result(string model, string task, UpstreamModel upstream, double seconds, double audio, int count, object details,
        params MetricValue[] metrics) => new()
    {
        Model = model,
        Task = task,
        Metrics = metrics,
        UpstreamParameters = upstream.ParameterCount,
        UpstreamMacsPerSecond = upstream.MacsPerSecond,
        RealTimeFactor = audio > 0 ? seconds / audio : 0,
        AudioSeconds = audio,
        Count = count,
        Details = details,
    };
}
