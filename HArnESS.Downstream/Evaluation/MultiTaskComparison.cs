namespace HArnESS.Downstream.Evaluation;

/// <summary>The joint multi-task run (Kerpicci et al.: one upstream fine-tuned for KWS and SV together) beside the
/// same two tasks fine-tuned one at a time and on a frozen upstream: three rows of one table, so the effect of
/// sharing the upstream can be read off. Made by <see cref="DownstreamSuite.CompareMultiTask"/>, or from results
/// the caller already has.</summary>
public sealed record MultiTaskComparison
{
    /// <summary>Row label of the frozen-upstream results.</summary>
    public const string FrozenRow = "frozen";

    /// <summary>Row label of the single-task fine-tuning results.</summary>
    public const string SingleTaskRow = "single-task fine-tuned";

    /// <summary>Row label of the joint multi-task results.</summary>
    public const string JointRow = "joint multi-task";

    /// <summary>The upstream's label ("teacher", "HST", …), put in front of every row label.</summary>
    public required string Model { get; init; }

    /// <summary>KWS and SV with the upstream frozen (one result per task).</summary>
    public required IReadOnlyList<EvaluationResult> Frozen { get; init; }

    /// <summary>KWS and SV, each fine-tuned on its own copy of the upstream.</summary>
    public required IReadOnlyList<EvaluationResult> SingleTask { get; init; }

    /// <summary>KWS and SV from the one jointly fine-tuned upstream.</summary>
    public required IReadOnlyList<EvaluationResult> Joint { get; init; }

    /// <summary>Weight of the SV loss in the joint run (KWS has weight 1).</summary>
    public double SvWeight { get; init; } = 1.0;

    /// <summary>Every result, relabelled <c>"{Model} {row}"</c>, in the order frozen, single-task, joint (the
    /// table's rows).</summary>
    /// <exception cref="ArgumentException">A row is empty, has two results for one task, or the rows do not cover the same tasks.</exception>
    public IReadOnlyList<EvaluationResult> Rows()
    {
        var rows = new[] { (FrozenRow, Frozen, nameof(Frozen)), (SingleTaskRow, SingleTask, nameof(SingleTask)), (JointRow, Joint, nameof(Joint)) };
        var tasks = Tasks(Frozen, FrozenRow, nameof(Frozen));
        foreach (var (label, results, property) in rows)
        {
            var these = Tasks(results, label, property);
            if (!these.SetEquals(tasks))
                throw new ArgumentException(
                    $"The '{label}' row has tasks [{string.Join(", ", these.Order())}], the '{FrozenRow}' row [{string.Join(", ", tasks.Order())}]: every row must cover the same tasks.",
                    property);
        }
        return rows.SelectMany(r => r.Item2.Select(x => x with { Model = $"{Model} {r.Item1}" })).ToArray();
    }

    /// <summary>The comparison as one markdown table (<see cref="EvaluationTable.ToMarkdown"/>): a row per setup
    /// with the upstream's parameters, GMACs/s and real-time factor, a column per task metric, the best value of each
    /// column in bold, and a first line naming the SV weight.</summary>
    /// <exception cref="ArgumentException">See <see cref="Rows"/>.</exception>
    public string ToMarkdown() =>
        $"Joint multi-task fine-tuning of {Model} (alternating batches, KWS weight 1, SV weight {SvWeight.ToString(System.Globalization.CultureInfo.InvariantCulture)}) against single-task fine-tuning and a frozen upstream.\n\n"
        + EvaluationTable.ToMarkdown(Rows());

    private static HashSet<string> Tasks(IReadOnlyList<EvaluationResult>? results, string label, string property)
    {
        if (results is null || results.Count == 0)
            throw new ArgumentException($"The '{label}' row has no results.", property);
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in results)
            if (!set.Add(r.Task)) throw new ArgumentException($"The '{label}' row has two results for task '{r.Task}'.", property);
        return set;
    }
}
