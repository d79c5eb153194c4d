namespace HArnESS.Downstream.Metrics;

/// <summary>Speaker-verification metrics of scored trials: EER and minDCF, both read off the tie-grouped
/// <see cref="RocCurve"/>.</summary>
/// <remarks>
/// EER: the ROC points are joined by straight lines (in (Pfa, Pmiss) as in (FPR, TPR)) and the EER is where that
/// polyline crosses Pmiss = Pfa, linearly interpolated inside the segment that crosses; this equals the common
/// <c>brentq(lambda x: 1 - x - interp1d(fpr, tpr)(x), 0, 1)</c> on sklearn's <c>roc_curve</c>, and with tied scores the
/// segment is the straight line between the two sides of the tie. minDCF: the smallest normalised DCF over all ROC
/// points (thresholds between scores add nothing).
/// </remarks>
public sealed class VerificationReport
{
    private VerificationReport(RocCurve roc, DcfOptions dcf)
    {
        Roc = roc;
        Dcf = dcf;
        var fpr = roc.FalsePositiveRates;
        var tpr = roc.TruePositiveRates;
        // EER: first point where Pmiss - Pfa <= 0 (point 0 has +1, the last -1).
        for (var k = 1; k < fpr.Count; k++)
        {
            var d1 = 1 - tpr[k] - fpr[k];
            if (d1 > 0) continue;
            var d0 = 1 - tpr[k - 1] - fpr[k - 1];
            var t = d0 / (d0 - d1);
            Eer = fpr[k - 1] + t * (fpr[k] - fpr[k - 1]);
            EerThreshold = roc.Thresholds[k];
            break;
        }
        var norm = Math.Min(dcf.CostMiss * dcf.TargetPrior, dcf.CostFalseAlarm * (1 - dcf.TargetPrior));
        MinDcf = double.PositiveInfinity;
        for (var k = 0; k < fpr.Count; k++)
        {
            var c = (dcf.CostMiss * (1 - tpr[k]) * dcf.TargetPrior + dcf.CostFalseAlarm * fpr[k] * (1 - dcf.TargetPrior)) / norm;
            if (c < MinDcf)
            {
                MinDcf = c;
                MinDcfThreshold = roc.Thresholds[k];
            }
        }
    }

    /// <summary>Scores the trials.</summary>
    /// <param name="scores">One score per trial (higher = more likely the same speaker).</param>
    /// <param name="isTarget">True for a target trial.</param>
    /// <param name="dcf">Operating point of the DCF; null = <see cref="DcfOptions"/> defaults.</param>
    /// <exception cref="ArgumentException">As <see cref="RocCurve.Compute"/>: empty, mismatched, non-finite, or one-sided trials.</exception>
    /// <exception cref="HArnessValidationException">The DCF options are invalid.</exception>
    public static VerificationReport Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> isTarget, DcfOptions? dcf = null)
    {
        dcf ??= new DcfOptions();
        dcf.Validate();
        return new VerificationReport(RocCurve.Compute(scores, isTarget), dcf);
    }

    /// <summary>The curve both numbers come from.</summary>
    public RocCurve Roc { get; }

    /// <summary>The DCF operating point used.</summary>
    public DcfOptions Dcf { get; }

    /// <summary>Equal error rate, a fraction in [0, 1] (interpolated at the crossing, see the remarks).</summary>
    public double Eer { get; }

    /// <summary>Threshold of the first ROC point at or past the EER crossing (accept when score ≥ it).</summary>
    public double EerThreshold { get; }

    /// <summary>Minimum normalised detection cost.</summary>
    public double MinDcf { get; }

    /// <summary>Threshold reaching <see cref="MinDcf"/> (accept when score ≥ it; +∞ = reject all).</summary>
    public double MinDcfThreshold { get; }
}
