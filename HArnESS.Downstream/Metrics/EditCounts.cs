namespace HArnESS.Downstream.Metrics;

/// <summary>The operations of a minimum-cost Levenshtein alignment of a hypothesis to a reference (unit costs).
/// Among alignments of equal cost the one with the most hits is kept (then a substitution is preferred to a deletion,
/// a deletion to an insertion), so "a b" → "b c" counts one deletion and one insertion, not two substitutions; the
/// total (and so WER/CER) does not depend on this choice.</summary>
/// <param name="Hits">Reference tokens matched unchanged.</param>
/// <param name="Substitutions">Reference tokens replaced by another token.</param>
/// <param name="Deletions">Reference tokens missing from the hypothesis.</param>
/// <param name="Insertions">Hypothesis tokens with no reference token.</param>
public readonly record struct EditCounts(int Hits, int Substitutions, int Deletions, int Insertions)
{
    /// <summary>Tokens in the reference: hits + substitutions + deletions.</summary>
    public int ReferenceLength => Hits + Substitutions + Deletions;

    /// <summary>Tokens in the hypothesis: hits + substitutions + insertions.</summary>
    public int HypothesisLength => Hits + Substitutions + Insertions;

    /// <summary>The edit distance: substitutions + deletions + insertions.</summary>
    public int Errors => Substitutions + Deletions + Insertions;

    /// <summary>Component-wise sum (corpus totals).</summary>
    public static EditCounts operator +(EditCounts a, EditCounts b) =>
        new(a.Hits + b.Hits, a.Substitutions + b.Substitutions, a.Deletions + b.Deletions, a.Insertions + b.Insertions);

    /// <summary>Aligns <paramref name="hypothesis"/> to <paramref name="reference"/> by dynamic programming.</summary>
    /// <typeparam name="T">Token type (words, characters, ids), compared with the default equality.</typeparam>
    /// <param name="reference">Reference tokens.</param>
    /// <param name="hypothesis">Hypothesis tokens.</param>
    public static EditCounts Align<T>(IReadOnlyList<T> reference, IReadOnlyList<T> hypothesis)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        var eq = EqualityComparer<T>.Default;
        int n = reference.Count, m = hypothesis.Count;
        // Cells are ordered by (cost, -hits): additive, so the dynamic programme stays exact.
        var cost = new int[n + 1, m + 1];
        var hits = new int[n + 1, m + 1];
        var op = new byte[n + 1, m + 1]; // 0 hit, 1 sub, 2 del, 3 ins
        for (var i = 1; i <= n; i++) { cost[i, 0] = i; op[i, 0] = 2; }
        for (var j = 1; j <= m; j++) { cost[0, j] = j; op[0, j] = 3; }
        for (var i = 1; i <= n; i++)
        {
            for (var j = 1; j <= m; j++)
            {
                var same = eq.Equals(reference[i - 1], hypothesis[j - 1]);
                var bestCost = cost[i - 1, j - 1] + (same ? 0 : 1);
                var bestHits = hits[i - 1, j - 1] + (same ? 1 : 0);
                byte bestOp = same ? (byte)0 : (byte)1;
                Consider(cost[i - 1, j] + 1, hits[i - 1, j], 2, ref bestCost, ref bestHits, ref bestOp);
                Consider(cost[i, j - 1] + 1, hits[i, j - 1], 3, ref bestCost, ref bestHits, ref bestOp);
                cost[i, j] = bestCost;
                hits[i, j] = bestHits;
                op[i, j] = bestOp;
            }
        }
        int h = 0, s = 0, d = 0, ins = 0;
        for (int i = n, j = m; i > 0 || j > 0;)
        {
            switch (op[i, j])
            {
                case 0: h++; i--; j--; break;
                case 1: s++; i--; j--; break;
                case 2: d++; i--; break;
                default: ins++; j--; break;
            }
        }
        return new EditCounts(h, s, d, ins);
    }

    private static void Consider(int c, int hits, byte op, ref int bestCost, ref int bestHits, ref byte bestOp)
    {
        if (c < bestCost || (c == bestCost && hits > bestHits))
        {
            bestCost = c;
            bestHits = hits;
            bestOp = op;
        }
    }
}
