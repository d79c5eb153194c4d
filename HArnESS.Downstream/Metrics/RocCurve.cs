namespace HArnESS.Downstream.Metrics;

/// <summary>The ROC of verification scores (higher = more likely a target), one point per distinct score, as
/// sklearn's <c>roc_curve(..., drop_intermediate=False)</c>: tied scores form one point (so ties are never broken by
/// input order), and point 0 is (0, 0) at threshold +∞ ("reject everything").</summary>
public sealed class RocCurve
{
    private RocCurve(double[] fpr, double[] tpr, double[] thresholds, int targets, int nonTargets)
    {
        FalsePositiveRates = fpr;
        TruePositiveRates = tpr;
        Thresholds = thresholds;
        Targets = targets;
        NonTargets = nonTargets;
    }

    /// <summary>False-alarm rate at each point (non-targets with score ≥ threshold / non-targets), non-decreasing.</summary>
    public IReadOnlyList<double> FalsePositiveRates { get; }

    /// <summary>Hit rate at each point (targets with score ≥ threshold / targets), non-decreasing.</summary>
    public IReadOnlyList<double> TruePositiveRates { get; }

    /// <summary>Threshold of each point: a trial is accepted when its score is ≥ it; [0] is +∞, then the distinct scores, decreasing.</summary>
    public IReadOnlyList<double> Thresholds { get; }

    /// <summary>Number of target trials.</summary>
    public int Targets { get; }

    /// <summary>Number of non-target trials.</summary>
    public int NonTargets { get; }

    /// <summary>Builds the curve.</summary>
    /// <param name="scores">One score per trial.</param>
    /// <param name="isTarget">True for a target (same-speaker) trial.</param>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, a score is NaN or infinite, or there is no target or no non-target trial (the rates are then undefined).</exception>
    public static RocCurve Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> isTarget)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(isTarget);
        if (scores.Count == 0) throw new ArgumentException("No trials: verification metrics need scored trials.", nameof(scores));
        if (scores.Count != isTarget.Count)
            throw new ArgumentException($"Got {scores.Count} scores but {isTarget.Count} labels; they must pair up.", nameof(isTarget));
        for (var i = 0; i < scores.Count; i++)
            if (!double.IsFinite(scores[i])) throw new ArgumentException($"Score {i} is {scores[i]}; scores must be finite.", nameof(scores));
        var targets = isTarget.Count(t => t);
        var nonTargets = isTarget.Count - targets;
        if (targets == 0 || nonTargets == 0)
            throw new ArgumentException(
                $"The trials hold {targets} target and {nonTargets} non-target trial(s); ROC, EER and DCF need at least one of each.", nameof(isTarget));
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        var thr = new List<double> { double.PositiveInfinity };
        int tp = 0, fp = 0;
        for (var k = 0; k < order.Length;)
        {
            var s = scores[order[k]];
            while (k < order.Length && scores[order[k]] == s)
            {
                if (isTarget[order[k]]) tp++; else fp++;
                k++;
            }
            fpr.Add((double)fp / nonTargets);
            tpr.Add((double)tp / targets);
            thr.Add(s);
        }
        return new RocCurve(fpr.ToArray(), tpr.ToArray(), thr.ToArray(), targets, nonTargets);
    }
}
