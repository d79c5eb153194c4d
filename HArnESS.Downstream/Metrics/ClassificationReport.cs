namespace HArnESS.Downstream.Metrics;

/// <summary>Utterance-classification metrics (SER, DID, KWS, speaker ID) from one <see cref="Metrics.ConfusionMatrix"/>.</summary>
/// <remarks>
/// Conventions, each checked against sklearn 1.2 in the tests:
/// <list type="bullet">
/// <item><see cref="Accuracy"/> = <see cref="WeightedAccuracy"/> = correct / total (SER's WA is the support-weighted
/// mean recall, which is the accuracy; sklearn <c>recall_score(average="weighted")</c>).</item>
/// <item><see cref="UnweightedAccuracy"/> (SER's UA) = mean recall over the classes that occur in the truth
/// (sklearn <c>recall_score(average="macro", labels=unique(y_true))</c>). sklearn's default
/// <c>average="macro"</c> also averages in classes that are only predicted (recall 0); that value is
/// <see cref="MacroRecall"/>.</item>
/// <item><see cref="MacroF1"/> = mean F1 over the classes that occur in the truth or the predictions, with F1 = 0
/// where precision and recall are both 0 (sklearn <c>f1_score(average="macro")</c>, <c>zero_division=0</c>).</item>
/// </list>
/// Classes that occur in neither take no part in any average.
/// </remarks>
public sealed class ClassificationReport
{
    private ClassificationReport(ConfusionMatrix m)
    {
        ConfusionMatrix = m;
        var k = m.Classes.Count;
        var recall = new double[k];
        var precision = new double[k];
        var f1 = new double[k];
        long correct = 0;
        double uaSum = 0, macroRecallSum = 0, f1Sum = 0;
        int inTruth = 0, seen = 0;
        for (var c = 0; c < k; c++)
        {
            long tp = m[c, c], support = m.Support(c), pred = m.Predicted(c);
            correct += tp;
            recall[c] = support == 0 ? 0 : (double)tp / support;
            precision[c] = pred == 0 ? 0 : (double)tp / pred;
            f1[c] = precision[c] + recall[c] == 0 ? 0 : 2 * precision[c] * recall[c] / (precision[c] + recall[c]);
            if (support > 0) { uaSum += recall[c]; inTruth++; }
            if (support > 0 || pred > 0) { macroRecallSum += recall[c]; f1Sum += f1[c]; seen++; }
        }
        Recall = recall;
        Precision = precision;
        F1 = f1;
        Accuracy = (double)correct / m.Total;
        UnweightedAccuracy = uaSum / inTruth;
        MacroRecall = macroRecallSum / seen;
        MacroF1 = f1Sum / seen;
    }

    /// <summary>Computes the metrics from class ids.</summary>
    /// <param name="classes">Class names; class id = position.</param>
    /// <param name="truth">True class ids.</param>
    /// <param name="predicted">Predicted class ids, same length.</param>
    /// <exception cref="ArgumentException">No classes, no pairs, or the lists differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the classes.</exception>
    public static ClassificationReport Compute(IReadOnlyList<string> classes, IReadOnlyList<int> truth, IReadOnlyList<int> predicted) =>
        new(new ConfusionMatrix(classes, truth, predicted));

    /// <summary>Computes the metrics from class names, mapped through <paramref name="classes"/>.</summary>
    /// <param name="classes">The label set; class id = position.</param>
    /// <param name="truth">True class names.</param>
    /// <param name="predicted">Predicted class names.</param>
    /// <exception cref="ArgumentException">A name is not in <paramref name="classes"/> (the message names it and its position), or as for the id overload.</exception>
    public static ClassificationReport Compute(IReadOnlyList<string> classes, IReadOnlyList<string> truth, IReadOnlyList<string> predicted)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predicted);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < classes.Count; i++)
            if (!ids.TryAdd(classes[i], i)) throw new ArgumentException($"Class '{classes[i]}' appears twice.", nameof(classes));
        int[] Map(IReadOnlyList<string> names, string param) => names.Select((n, i) => ids.TryGetValue(n, out var id)
            ? id
            : throw new ArgumentException($"Label '{n}' at position {i} is not in the label set ({string.Join(", ", classes)}).", param)).ToArray();
        return Compute(classes, Map(truth, nameof(truth)), Map(predicted, nameof(predicted)));
    }

    /// <summary>The counts behind every number here.</summary>
    public ConfusionMatrix ConfusionMatrix { get; }

    /// <summary>Correct / total.</summary>
    public double Accuracy { get; }

    /// <summary>Support-weighted mean recall; equal to <see cref="Accuracy"/> by construction (SER's "WA").</summary>
    public double WeightedAccuracy => Accuracy;

    /// <summary>Mean per-class recall over classes present in the truth (SER's "UA", balanced accuracy).</summary>
    public double UnweightedAccuracy { get; }

    /// <summary>Mean recall over classes present in the truth or the predictions (sklearn's default macro recall).</summary>
    public double MacroRecall { get; }

    /// <summary>Mean per-class F1 over classes present in the truth or the predictions (sklearn's macro F1).</summary>
    public double MacroF1 { get; }

    /// <summary>Per-class recall (0 for a class with no true sample).</summary>
    public IReadOnlyList<double> Recall { get; }

    /// <summary>Per-class precision (0 for a class never predicted).</summary>
    public IReadOnlyList<double> Precision { get; }

    /// <summary>Per-class F1 (0 when precision and recall are both 0).</summary>
    public IReadOnlyList<double> F1 { get; }
}
