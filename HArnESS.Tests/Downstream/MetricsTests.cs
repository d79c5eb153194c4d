using System.Text.Json;
using HArnESS.Downstream.Metrics;
using NUnit.Framework;

namespace HArnESS.Tests.Downstream;

public sealed class ErrorRateTests
{
    [Test]
    public void HandWorkedWerCountsEachOperation()
    {
        // ref: the cat sat on the mat (6) ; hyp: the cat sit on mat → sat→sit (S), "the" deleted (D).
        var wer = ErrorRates.Word(["the cat sat on the mat"], ["the cat sit on mat"]);
        Assert.That(wer.Counts, Is.EqualTo(new EditCounts(Hits: 4, Substitutions: 1, Deletions: 1, Insertions: 0)));
        Assert.That(wer.Rate, Is.EqualTo(2.0 / 6).Within(1e-12));
        // An insertion-only hypothesis: WER above 1 is possible.
        var ins = ErrorRates.Word(["a"], ["x a y z"]);
        Assert.That(ins.Counts, Is.EqualTo(new EditCounts(1, 0, 0, 3)));
        Assert.That(ins.Rate, Is.EqualTo(3.0));
        // Corpus WER sums counts, it does not average per-utterance rates.
        var corpus = ErrorRates.Word(["a b c d", "e"], ["a b c d", "f"]);
        Assert.That(corpus.Rate, Is.EqualTo(1.0 / 5).Within(1e-12));
        Assert.That(corpus.Utterances, Is.EqualTo(2));
    }

    [Test]
    public void EqualCostAlignmentsPreferHits()
    {
        // "a b" → "b c": two substitutions or one deletion + one insertion (same cost 2): the hit is kept.
        var e = EditCounts.Align(["a", "b"], ["b", "c"]);
        Assert.That(e, Is.EqualTo(new EditCounts(1, 0, 1, 1)));
    }

    [Test]
    public void CerCountsCodePointsWithOrWithoutSpaces()
    {
        var cer = ErrorRates.Character(["ab cd"], ["ab  ce"]);
        Assert.That(cer.Counts.ReferenceLength, Is.EqualTo(5), "a b ␠ c d");
        Assert.That(cer.Counts.Substitutions, Is.EqualTo(1));
        var noSpace = ErrorRates.Character(["ab cd"], ["abce"], includeSpaces: false);
        Assert.That(noSpace.Counts, Is.EqualTo(new EditCounts(3, 1, 0, 0)));
        // Arabic: one code point per letter; a diacritic is its own character unless normalised away.
        var ar = ErrorRates.Character(["كتب"], ["كَتب"]);
        Assert.That(ar.Counts, Is.EqualTo(new EditCounts(3, 0, 0, 1)));
    }

    [Test]
    public void TotalsMatchTorchaudioEditDistance()
    {
        foreach (var c in DownstreamFixtures.Load("metrics.json").GetProperty("edit").EnumerateArray())
        {
            string r = c.GetProperty("reference").GetString()!, h = c.GetProperty("hypothesis").GetString()!;
            var w = EditCounts.Align(ErrorRates.Words(r), ErrorRates.Words(h));
            Assert.That(w.Errors, Is.EqualTo(c.GetProperty("word_errors").GetInt32()), $"words '{r}' / '{h}'");
            Assert.That(w.ReferenceLength, Is.EqualTo(ErrorRates.Words(r).Length));
            Assert.That(w.HypothesisLength, Is.EqualTo(ErrorRates.Words(h).Length));
            var ch = EditCounts.Align(ErrorRates.Characters(r), ErrorRates.Characters(h));
            Assert.That(ch.Errors, Is.EqualTo(c.GetProperty("char_errors").GetInt32()), $"chars '{r}' / '{h}'");
            var ns = EditCounts.Align(ErrorRates.Characters(r, false), ErrorRates.Characters(h, false));
            Assert.That(ns.Errors, Is.EqualTo(c.GetProperty("char_errors_no_space").GetInt32()), $"chars without spaces '{r}' / '{h}'");
        }
    }

    [Test]
    public void BadInputsGetNamedErrors()
    {
        Assert.That(() => ErrorRates.Word([], []), Throws.ArgumentException.With.Message.Contains("No utterances"));
        Assert.That(() => ErrorRates.Word(["a"], ["a", "b"]), Throws.ArgumentException.With.Property("ParamName").EqualTo("hypotheses"));
        Assert.That(() => ErrorRates.Word(["", " "], ["a", ""]), Throws.ArgumentException.With.Message.Contains("Every reference is empty"));
        // Empty hypotheses are fine: all deletions.
        Assert.That(ErrorRates.Word(["a b"], [""]).Counts, Is.EqualTo(new EditCounts(0, 0, 2, 0)));
    }
}

public sealed class ClassificationReportTests
{
    private static readonly string[] Names = ["c0", "c1", "c2", "c3", "c4"];

    [Test]
    public void HandWorkedUaWaAndF1()
    {
        // truth: 0 0 0 0 1 1 ; pred: 0 0 0 1 1 0
        // recall: c0 3/4, c1 1/2 → UA 0.625 ; accuracy 4/6 ; precision c0 3/4, c1 1/2 → F1 c0 0.75, c1 0.5 → 0.625.
        var r = ClassificationReport.Compute(["a", "b"], [0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0]);
        Assert.That(r.Accuracy, Is.EqualTo(4.0 / 6).Within(1e-12));
        Assert.That(r.WeightedAccuracy, Is.EqualTo(4.0 / 6).Within(1e-12));
        Assert.That(r.UnweightedAccuracy, Is.EqualTo(0.625).Within(1e-12));
        Assert.That(r.MacroF1, Is.EqualTo(0.625).Within(1e-12));
        Assert.That(r.ConfusionMatrix.ToArray(), Is.EqualTo(new[] { new long[] { 3, 1 }, new long[] { 1, 1 } }));
        Assert.That(r.ConfusionMatrix.ToMarkdown(), Does.Contain("| a | 3 | 1 |"));
    }

    private static IEnumerable<TestCaseData> Cases() =>
        DownstreamFixtures.Load("metrics.json").GetProperty("classification").EnumerateArray()
            .Select(c => new TestCaseData(c.Clone()).SetName($"MatchesSklearn({c.GetProperty("name").GetString()})"));

    [TestCaseSource(nameof(Cases))]
    public void MatchesSklearn(JsonElement c)
    {
        var k = c.GetProperty("classes").GetInt32();
        var r = ClassificationReport.Compute(Names[..k], c.GetProperty("truth").Ints(), c.GetProperty("predicted").Ints());
        Assert.That(r.Accuracy, Is.EqualTo(c.GetProperty("accuracy").GetDouble()).Within(1e-12), "accuracy_score");
        Assert.That(r.WeightedAccuracy, Is.EqualTo(c.GetProperty("recall_weighted").GetDouble()).Within(1e-12), "recall_score(weighted)");
        Assert.That(r.UnweightedAccuracy, Is.EqualTo(c.GetProperty("recall_macro_true_labels").GetDouble()).Within(1e-12), "recall_score(macro, labels=unique(y_true))");
        Assert.That(r.MacroRecall, Is.EqualTo(c.GetProperty("recall_macro").GetDouble()).Within(1e-12), "recall_score(macro)");
        Assert.That(r.MacroF1, Is.EqualTo(c.GetProperty("f1_macro").GetDouble()).Within(1e-12), "f1_score(macro)");
        var cm = c.GetProperty("confusion").EnumerateArray().Select(row => row.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        Assert.That(r.ConfusionMatrix.ToArray(), Is.EqualTo(cm), "confusion_matrix");
    }

    [Test]
    public void NamesMapThroughTheLabelSetAndBadInputsAreNamed()
    {
        var r = ClassificationReport.Compute(["no", "yes"], ["yes", "no"], ["yes", "yes"]);
        Assert.That(r.Accuracy, Is.EqualTo(0.5));
        Assert.That(() => ClassificationReport.Compute(["no", "yes"], ["yes", "maybe"], ["yes", "yes"]),
            Throws.ArgumentException.With.Message.Contains("'maybe' at position 1"));
        Assert.That(() => ClassificationReport.Compute(["a"], Array.Empty<int>(), Array.Empty<int>()),
            Throws.ArgumentException.With.Message.Contains("No predictions"));
        Assert.That(() => ClassificationReport.Compute(["a", "b"], [0, 1], [0]), Throws.ArgumentException.With.Property("ParamName").EqualTo("predicted"));
        Assert.That(() => ClassificationReport.Compute(["a", "b"], [0, 2], [0, 1]), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("True label 1 is 2"));
    }
}

public sealed class VerificationReportTests
{
    [Test]
    public void HandWorkedEerAndMinDcf()
    {
        // T N T T N N from the top: ROC (0,0) (0,⅓) (⅓,⅓) (⅓,⅔) ... Pmiss = Pfa = ⅓ at threshold 0.6.
        var r = VerificationReport.Compute([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [true, false, true, true, false, false]);
        Assert.That(r.Eer, Is.EqualTo(1.0 / 3).Within(1e-12));
        Assert.That(r.EerThreshold, Is.EqualTo(0.6));
        // Ptar = 0.5: DCF/0.5 = Pmiss + Pfa, smallest at (⅓ FA, 0 miss) or (0 FA, ⅔ miss) ... = ⅓ + 0 at threshold 0.6.
        var half = VerificationReport.Compute([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [true, false, true, true, false, false], new DcfOptions { TargetPrior = 0.5 });
        Assert.That(half.MinDcf, Is.EqualTo(1.0 / 3).Within(1e-12));
        Assert.That(half.MinDcfThreshold, Is.EqualTo(0.6));
    }

    [Test]
    public void TiesAreOnePointAndTheEerIsInterpolatedAcrossThem()
    {
        // All four scores tied: the ROC jumps from (0,0) to (1,1); the crossing is halfway: EER 0.5 whatever the order.
        var a = VerificationReport.Compute([1, 1, 1, 1], [true, false, false, true]);
        var b = VerificationReport.Compute([1, 1, 1, 1], [false, true, true, false]);
        Assert.That(a.Roc.Thresholds, Has.Count.EqualTo(2));
        Assert.That(a.Eer, Is.EqualTo(0.5).Within(1e-12));
        Assert.That(b.Eer, Is.EqualTo(0.5).Within(1e-12));
        // T at 2, then a tie {T, N, N} at 1, N at 0: segment (Pfa, Pmiss) = (0, ½) → (⅔, 0): ⅔t = ½ − ½t at t = 3/7, so EER = 2/7.
        var c = VerificationReport.Compute([2, 1, 1, 1, 0], [true, true, false, false, false]);
        Assert.That(c.Eer, Is.EqualTo(2.0 / 7).Within(1e-12));
    }

    private static IEnumerable<TestCaseData> Cases() =>
        DownstreamFixtures.Load("metrics.json").GetProperty("verification").EnumerateArray()
            .Select(c => new TestCaseData(c.Clone()).SetName($"MatchesSklearnRocCurve({c.GetProperty("name").GetString()})"));

    [TestCaseSource(nameof(Cases))]
    public void MatchesSklearnRocCurve(JsonElement c)
    {
        var scores = c.GetProperty("scores").Doubles();
        var labels = c.GetProperty("labels").Bools();
        var r = VerificationReport.Compute(scores, labels);
        Assert.That(r.Roc.FalsePositiveRates, Is.EqualTo(c.GetProperty("fpr").Doubles()).Within(1e-12), "fpr");
        Assert.That(r.Roc.TruePositiveRates, Is.EqualTo(c.GetProperty("tpr").Doubles()).Within(1e-12), "tpr");
        Assert.That(r.Roc.Thresholds.Skip(1), Is.EqualTo(c.GetProperty("thresholds_finite").Doubles()), "thresholds");
        Assert.That(r.Eer, Is.EqualTo(c.GetProperty("eer").GetDouble()).Within(1e-9), "EER (brentq over interp1d(fpr, tpr))");
        foreach (var d in c.GetProperty("dcf").EnumerateArray())
        {
            var opt = new DcfOptions
            {
                TargetPrior = d.GetProperty("target_prior").GetDouble(),
                CostMiss = d.GetProperty("cost_miss").GetDouble(),
                CostFalseAlarm = d.GetProperty("cost_fa").GetDouble(),
            };
            Assert.That(VerificationReport.Compute(scores, labels, opt).MinDcf, Is.EqualTo(d.GetProperty("min_dcf").GetDouble()).Within(1e-9), $"minDCF {opt}");
        }
    }

    [Test]
    public void BadInputsGetNamedErrors()
    {
        Assert.That(() => VerificationReport.Compute([], []), Throws.ArgumentException.With.Message.Contains("No trials"));
        Assert.That(() => VerificationReport.Compute([1, 2], [true, true]), Throws.ArgumentException.With.Message.Contains("2 target and 0 non-target"));
        Assert.That(() => VerificationReport.Compute([1, double.NaN], [true, false]), Throws.ArgumentException.With.Message.Contains("Score 1 is NaN"));
        var ex = Assert.Throws<HArnessValidationException>(() => VerificationReport.Compute([1, 2], [true, false], new DcfOptions { TargetPrior = 1, CostMiss = -1 }));
        Assert.That(ex!.Errors.Select(e => e.Option), Is.EquivalentTo(new[] { "TargetPrior", "CostMiss" }));
    }
}
