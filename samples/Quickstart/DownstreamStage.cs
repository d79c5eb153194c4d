using System.Globalization;
using HArnESS.Downstream.Evaluation;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;

namespace HArnESS.Samples.Quickstart;

/// <summary>Stage 3: ASR, SER, DID, KWS and SV on every model with <see cref="DownstreamSuite"/> (frozen upstream, a
/// learned weighted sum of its layers, a head per task), and the KWS + SV multi-task comparison on one student:
/// joint fine-tuning (<see cref="DownstreamSuite.RunMultiTask"/>) vs single-task fine-tuning vs the frozen upstream.</summary>
internal static class DownstreamStage
{
    public static DownstreamSuiteOptions Options(QuickstartOptions o, UpstreamTraining training = UpstreamTraining.Frozen) => new()
    {
        CorpusDirectory = o.Corpus,
        Epochs = o.DownstreamEpochs,
        AsrEpochs = o.AsrEpochs,
        Upstream = new UpstreamOptions { Training = training },
        Seed = 1,
    };

    /// <summary>All five tasks on one (frozen) upstream.</summary>
    public static (TaskMetrics Metrics, IReadOnlyList<EvaluationResult> Raw) Run(string model, SpeechEncoder encoder, QuickstartOptions o, ConsoleLog log,
        CancellationToken ct)
    {
        var options = Options(o);
        var results = new List<EvaluationResult>();
        foreach (var task in DownstreamSuiteOptions.AllTasks)
        {
            var r = DownstreamSuite.RunOne(model, encoder, task, options, ct);
            results.Add(r);
            log.Detail($"{model} {task}: {string.Join(", ", r.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} {m.Value:F1}")))}");
        }
        return (ToMetrics(results), results);
    }

    /// <summary>The multi-task comparison; <paramref name="fresh"/> gives a new copy of the upstream for each fine-tuned run.</summary>
    public static MultiTaskInfo MultiTask(string model, Func<SpeechEncoder> fresh, TaskMetrics frozen, QuickstartOptions o, ConsoleLog log, CancellationToken ct)
    {
        var tuned = Options(o, UpstreamTraining.TopLayers);
        KwsSv joint, single;
        using (var encoder = fresh())
        {
            var r = DownstreamSuite.RunMultiTask("joint", encoder, tuned, ct);
            joint = new KwsSv(Fraction(r.Single(x => x.Task == "kws"), "acc %"), Fraction(r.Single(x => x.Task == "sv"), "EER %"));
        }
        log.Detail(string.Create(CultureInfo.InvariantCulture, $"{model} joint KWS + SV fine-tuning: KWS accuracy {joint.KwsAccuracy:P1}, SV EER {joint.SvEer:P1}"));
        double kws, sv;
        using (var encoder = fresh()) kws = Fraction(DownstreamSuite.RunOne("single", encoder, "kws", tuned, ct), "acc %");
        using (var encoder = fresh()) sv = Fraction(DownstreamSuite.RunOne("single", encoder, "sv", tuned, ct), "EER %");
        single = new KwsSv(kws, sv);
        log.Detail(string.Create(CultureInfo.InvariantCulture, $"{model} single-task fine-tuning: KWS accuracy {single.KwsAccuracy:P1}, SV EER {single.SvEer:P1}"));
        var frozenPair = new KwsSv(frozen.Kws.Accuracy, frozen.Sv.Eer);
        log.Detail(string.Create(CultureInfo.InvariantCulture, $"{model} frozen: KWS accuracy {frozenPair.KwsAccuracy:P1}, SV EER {frozenPair.SvEer:P1}"));
        return new MultiTaskInfo(joint, single, frozenPair, model);
    }

    /// <summary>Chance levels measured on the corpus (<see cref="DownstreamChance"/>): the best constant transcript's
    /// CER, the larger of 1 / classes and the test split's majority class, SV EER 0.5; as fractions.</summary>
    public static TaskMetrics Chance(string corpus)
    {
        var c = DownstreamChance.Measure(corpus);
        return new TaskMetrics(new AsrMetrics(c.AsrCer / 100, c.AsrWer / 100), new SerMetrics(c.SerUa / 100, c.SerAccuracy / 100),
            new AccuracyMetric(c.DidAccuracy / 100), new AccuracyMetric(c.KwsAccuracy / 100), new EerMetric(c.SvEer / 100));
    }

    private static TaskMetrics ToMetrics(IReadOnlyList<EvaluationResult> r)
    {
        EvaluationResult T(string task) => r.Single(x => x.Task == task);
        return new TaskMetrics(
            new AsrMetrics(Fraction(T("asr"), "CER %"), Fraction(T("asr"), "WER %")),
            new SerMetrics(Fraction(T("ser"), "UA %"), Fraction(T("ser"), "acc %")),
            new AccuracyMetric(Fraction(T("did"), "acc %")),
            new AccuracyMetric(Fraction(T("kws"), "acc %")),
            new EerMetric(Fraction(T("sv"), "EER %")));
    }

    /// <summary>The suite reports percentages; report.json holds fractions.</summary>
    private static double Fraction(EvaluationResult r, string metric) => r[metric] / 100.0;
}
