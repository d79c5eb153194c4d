namespace HArnESS.Downstream.Metrics;

/// <summary>A corpus error rate (WER or CER): total edits over total reference tokens, with the operation counts
/// and the number of utterances it was summed over.</summary>
/// <param name="Counts">Summed alignment counts.</param>
/// <param name="Utterances">Number of reference/hypothesis pairs.</param>
public sealed record ErrorRate(EditCounts Counts, int Utterances)
{
    /// <summary>(S + D + I) / N with N the reference tokens; can exceed 1 when the hypotheses insert much.</summary>
    public double Rate => (double)Counts.Errors / Counts.ReferenceLength;

    /// <summary>The rate in percent.</summary>
    public double Percent => 100 * Rate;

    /// <summary>Substitutions / N.</summary>
    public double SubstitutionRate => (double)Counts.Substitutions / Counts.ReferenceLength;

    /// <summary>Deletions / N.</summary>
    public double DeletionRate => (double)Counts.Deletions / Counts.ReferenceLength;

    /// <summary>Insertions / N.</summary>
    public double InsertionRate => (double)Counts.Insertions / Counts.ReferenceLength;

    /// <inheritdoc/>
    public override string ToString() =>
        FormattableString.Invariant($"{Percent:F2}% (S={Counts.Substitutions} D={Counts.Deletions} I={Counts.Insertions} N={Counts.ReferenceLength}, {Utterances} utt)");
}
