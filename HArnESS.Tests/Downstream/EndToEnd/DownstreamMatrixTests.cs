using HArnESS.Distillation.Students;
using HArnESS.Downstream.Evaluation;
using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;
using HArnESS.Encoders;
using HArnESS.Modules;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Tests.Downstream.EndToEnd;

/// <summary>
/// The issue's "done when" on the demo corpus, through the public API: ASR, SER, DID, KWS and SV each train and
/// evaluate on a teacher-shaped upstream (fbank, 4 × 64) and on an HST student (fbank, 2 × 32), frozen and fully
/// fine-tuned, and each clearly beats a chance level measured on the data (classification: above both 1/classes and
/// the test set's majority class; SV: EER below 50 %; ASR: CER below the best constant decoder — empty output, the
/// most frequent training transcript or the most frequent character for every utterance). Then the joint KWS + SV
/// run beside single-task fine-tuning and a frozen upstream, and the teacher / HS / HST side-by-side table. The
/// upstreams are random-initialised once per fixture and copied for every fine-tuned run; the corpus is synthetic and
/// tiny, so the figures show a working pipeline, not model quality.
/// </summary>
[NonParallelizable]
public sealed class DownstreamMatrixTests
{
    private const int Seed = 11;
    private static string Demo => Path.Combine(TestPaths.RepoRoot, "data", "demo");

    /// <summary>Classification and SV must beat chance by this many percentage points; ASR's CER must be this far below the best constant decoder.</summary>
    private const double Margin = 10;

    private static readonly SpeechEncoderConfig Hs = StudentPresets.Hs(teacherDim: 64, teacherLayers: 4,
        frontEnd: new FbankFrontEndConfig { Stack = 2, ProjectionDim = 64 }).Encoder with
    { NumHeads = 4, IntermediateSize = 128, HiddenDropout = 0, AttentionDropout = 0, ActivationDropout = 0, FeatureProjectionDropout = 0 };

    private readonly Dictionary<string, (SpeechEncoderConfig Config, Dictionary<string, Tensor> State, long Parameters, long Macs)> _upstreams = [];
    private readonly Dictionary<(string Upstream, bool FineTuned), IReadOnlyDictionary<string, EvaluationResult>> _results = [];

    private int _threads;

    /// <summary>One intra-op thread for the whole fixture (restored afterwards): the figures do not depend on the
    /// machine's core count, and a loaded 2-core machine does not thrash between OpenMP workers.</summary>
    [OneTimeSetUp]
    public void MakeUpstreams()
    {
        HArnESS.Runtime.HArnessRuntime.EnsureInitialized();
        _threads = torch.get_num_threads();
        torch.set_num_threads(1);
        foreach (var (name, config) in new[] { ("teacher", DownstreamSuiteTests.Teacher), ("HST", DownstreamSuiteTests.Student), ("HS", Hs) })
        {
            torch.manual_seed(Seed);
            using var encoder = new SpeechEncoder(config);
            _upstreams[name] = (config, encoder.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone()), encoder.CountParameters(), encoder.CountMacs(16_000));
        }
    }

    [OneTimeTearDown]
    public void DisposeUpstreams()
    {
        torch.set_num_threads(_threads);
        foreach (var (_, state, _, _) in _upstreams.Values)
            foreach (var t in state.Values) t.Dispose();
    }

    /// <summary>A fresh copy of one fixture upstream (the caller disposes it).</summary>
    private SpeechEncoder Fresh(string name)
    {
        var (config, state, _, _) = _upstreams[name];
        var encoder = new SpeechEncoder(config);
        encoder.load_state_dict(state);
        return encoder;
    }

    private static DownstreamSuiteOptions Options(bool fineTuned) => new()
    {
        CorpusDirectory = Demo,
        Epochs = 8,
        AsrEpochs = 30,
        Upstream = new UpstreamOptions { Training = fineTuned ? UpstreamTraining.Full : UpstreamTraining.Frozen },
    };

    /// <summary>KWS has the smallest training set (73 utterances): it gets more passes.</summary>
    private static DownstreamSuiteOptions OptionsFor(string task, bool fineTuned) =>
        task == "kws" ? Options(fineTuned) with { Epochs = 16 } : Options(fineTuned);

    /// <summary>The five tasks for one upstream and mode, computed once: a frozen run shares one copy of the
    /// upstream, every fine-tuned task starts from its own copy.</summary>
    private IReadOnlyDictionary<string, EvaluationResult> Results(string upstream, bool fineTuned)
    {
        if (_results.TryGetValue((upstream, fineTuned), out var done)) return done;
        var label = $"{upstream} {(fineTuned ? "fine-tuned" : "frozen")}";
        var results = new Dictionary<string, EvaluationResult>();
        if (!fineTuned)
        {
            using var encoder = Fresh(upstream);
            foreach (var task in DownstreamSuiteOptions.AllTasks)
                results[task] = DownstreamSuite.RunOne(label, encoder, task, OptionsFor(task, false));
        }
        else
        {
            foreach (var task in DownstreamSuiteOptions.AllTasks)
            {
                using var encoder = Fresh(upstream);
                results[task] = DownstreamSuite.RunOne(label, encoder, task, OptionsFor(task, true));
            }
        }
        TestContext.Out.WriteLine(EvaluationTable.ToMarkdown(results.Values));
        _results[(upstream, fineTuned)] = results;
        return results;
    }

    private static string[] Lines(string file) => File.ReadAllLines(Path.Combine(Demo, file));

    [TestCase("teacher", false)]
    [TestCase("teacher", true)]
    [TestCase("HST", false)]
    [TestCase("HST", true)]
    public void EveryTaskBeatsChance(string upstream, bool fineTuned)
    {
        var r = Results(upstream, fineTuned);
        var chance = DownstreamChance.Measure(Demo);
        var (asrChance, ser, did, kws) = (chance.AsrCer, chance.SerAccuracy, chance.DidAccuracy, chance.KwsAccuracy);
        TestContext.Out.WriteLine($"chance: ASR CER {asrChance:F1} %, SER {ser:F1} %, DID {did:F1} %, KWS {kws:F1} %, SV EER 50 %");
        Assert.Multiple(() =>
        {
            Assert.That(r.Keys, Is.EqualTo(DownstreamSuiteOptions.AllTasks));
            Assert.That(asrChance, Is.GreaterThan(90), "a constant decoder gets almost every character wrong");
            Assert.That(r["asr"]["CER %"], Is.LessThan(asrChance - Margin), "ASR CER below the best constant decoder");
            Assert.That(r["ser"]["acc %"], Is.GreaterThan(ser + Margin), "SER accuracy above 1/4 and the majority class");
            Assert.That(r["did"]["acc %"], Is.GreaterThan(did + Margin), "DID accuracy above 1/4 and the majority class (ar)");
            Assert.That(r["kws"]["acc %"], Is.GreaterThan(kws + Margin), "KWS accuracy above 1/10 and the majority class");
            Assert.That(r["sv"]["EER %"], Is.LessThan(50 - Margin), "SV EER below chance (50 %)");
            foreach (var (task, result) in r)
            {
                Assert.That(result.Task, Is.EqualTo(task));
                Assert.That(result.UpstreamParameters, Is.EqualTo(_upstreams[upstream].Parameters), task);
                Assert.That(result.RealTimeFactor, Is.GreaterThan(0).And.LessThan(double.PositiveInfinity), task);
            }
        });
    }

    /// <summary>Kerpicci et al.'s joint KWS + SV fine-tuning of one upstream (alternating batches) against each task
    /// fine-tuned alone and against a frozen upstream, in one report.</summary>
    [Test]
    public void MultiTaskComparisonReportsJointSingleTaskAndFrozen()
    {
        var options = Options(fineTuned: false) with { Epochs = 12 };
        var comparison = DownstreamSuite.CompareMultiTask("HST", () => Fresh("HST"), options);
        var table = comparison.ToMarkdown();
        TestContext.Out.WriteLine(table);
        var kwsChance = DownstreamChance.Measure(Demo).KwsAccuracy;
        Assert.Multiple(() =>
        {
            foreach (var (row, results) in new[] { ("frozen", comparison.Frozen), ("single", comparison.SingleTask), ("joint", comparison.Joint) })
            {
                Assert.That(results.Select(x => x.Task), Is.EqualTo(new[] { "kws", "sv" }), row);
                Assert.That(results[0]["acc %"], Is.GreaterThan(kwsChance + Margin), $"{row}: KWS above chance");
                Assert.That(results[1]["EER %"], Is.LessThan(50 - Margin), $"{row}: SV EER below chance");
                Assert.That(results[1].Count, Is.EqualTo(Lines("sv_trials.txt").Length), $"{row}: every trial scored");
            }
            var lines = table.Split('\n');
            Assert.That(lines[0], Does.Contain("SV weight 1"));
            Assert.That(lines[2], Does.StartWith("| model | params (M) | GMACs/s | RTF | kws: acc % | kws: UA % | kws: macro-F1 % | sv: EER % | sv: minDCF |"));
            Assert.That(lines[4], Does.StartWith("| HST frozen |"));
            Assert.That(lines[5], Does.StartWith("| HST single-task fine-tuned |"));
            Assert.That(lines[6], Does.StartWith("| HST joint multi-task |"));
            // Each row carries its own figures.
            Assert.That(lines[6], Does.Contain(comparison.Joint[0]["acc %"].ToString("F2", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(lines[5], Does.Contain(comparison.SingleTask[1]["EER %"].ToString("F2", System.Globalization.CultureInfo.InvariantCulture)));
        });
    }

    /// <summary>Several models side by side (teacher, HS, HST): one row each with the upstream's parameters, MACs per
    /// audio second and real-time factor, and the task metrics; the best value of each metric column in bold.</summary>
    [Test]
    public void ModelComparisonPutsTeacherHsAndHstSideBySide()
    {
        var tasks = new[] { "ser", "kws", "sv" };
        var results = new List<EvaluationResult>();
        results.AddRange(tasks.Select(t => Results("teacher", false)[t] with { Model = "teacher" }));
        using (var hs = Fresh("HS"))
            results.AddRange(tasks.Select(t => DownstreamSuite.RunOne("HS", hs, t, OptionsFor(t, false))));
        results.AddRange(tasks.Select(t => Results("HST", false)[t] with { Model = "HST" }));
        var table = EvaluationTable.ToMarkdown(results);
        TestContext.Out.WriteLine(table);
        var rows = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(rows, Has.Length.EqualTo(5));
        Assert.That(rows[0], Is.EqualTo("| model | params (M) | GMACs/s | RTF | ser: acc % | ser: UA % | ser: macro-F1 % | kws: acc % | kws: UA % | kws: macro-F1 % | sv: EER % | sv: minDCF |"));
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        var parameters = new List<double>();
        foreach (var (row, name) in rows.Skip(2).Zip(new[] { "teacher", "HS", "HST" }))
        {
            var cells = row.Split('|', StringSplitOptions.TrimEntries)[1..^1];
            var upstream = _upstreams[name];
            Assert.That(cells[0], Is.EqualTo(name));
            Assert.That(cells[1], Is.EqualTo(EvaluationTable.Size(upstream.Parameters / 1e6)), $"{name}: parameters");
            Assert.That(cells[2], Is.EqualTo(EvaluationTable.Size(upstream.Macs / 1e9)), $"{name}: GMACs per second");
            Assert.That(double.Parse(cells[3], ci), Is.GreaterThan(0), $"{name}: RTF");
            Assert.That(cells.Skip(4).Select(c => double.Parse(c.Trim('*'), ci)), Is.All.InRange(0, 100), $"{name}: metrics");
            parameters.Add(upstream.Parameters);
        }
        Assert.That(parameters, Is.Ordered.Descending, "teacher > HS (2 layers at its width) > HST (2 thin layers)");
        // Every metric column marks its best value (at least one bold cell per column).
        var body = rows.Skip(2).Select(r => r.Split('|', StringSplitOptions.TrimEntries)[1..^1]).ToArray();
        for (var c = 4; c < body[0].Length; c++)
            Assert.That(body.Count(r => r[c].StartsWith("**", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(1), $"column {c}");
    }
}
