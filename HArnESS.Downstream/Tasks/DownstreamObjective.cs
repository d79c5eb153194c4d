using HArnESS.Data;
using HArnESS.Downstream.Upstream;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;
using HArnESS.Tensors;
using TorchSharp;

namespace HArnESS.Downstream.Tasks;

/// <summary>
/// Batch → named loss terms for one upstream and one or more task heads: single-task fine-tuning, or joint multi-task
/// fine-tuning (Kerpicci et al.: one upstream, e.g. KWS + SV heads) with per-task weights. A batch only feeds the
/// tasks whose labels it carries, so mixed batches (every label set) and alternating batches (one task's corpus at a
/// time) both work. Term names are <c>task.term</c> ("kws.ce", "sv.aam").
/// </summary>
public sealed class DownstreamObjective
{
    private readonly (IDownstreamTask Task, double Weight)[] _tasks;

    /// <summary>Creates the objective.</summary>
    /// <param name="upstream">The shared upstream.</param>
    /// <param name="tasks">Tasks and their weights (positive); names must differ.</param>
    /// <exception cref="ArgumentException">No task, a duplicate name, or a weight that is not positive and finite.</exception>
    public DownstreamObjective(UpstreamModel upstream, params (IDownstreamTask Task, double Weight)[] tasks)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(tasks);
        if (tasks.Length == 0) throw new ArgumentException("At least one task is needed.", nameof(tasks));
        var dup = tasks.GroupBy(t => t.Task.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Two tasks are named '{dup.Key}'.", nameof(tasks));
        foreach (var (t, w) in tasks)
            if (!(w > 0) || !double.IsFinite(w)) throw new ArgumentException($"Task '{t.Name}' has weight {w}; weights must be positive and finite.", nameof(tasks));
        Upstream = upstream;
        _tasks = tasks;
    }

    /// <summary>The shared upstream.</summary>
    public UpstreamModel Upstream { get; }

    /// <summary>The tasks with their weights.</summary>
    public IReadOnlyList<(IDownstreamTask Task, double Weight)> Tasks => _tasks;

    /// <summary>Head parameters (every task's, each once): the optimiser group with the head learning rate.</summary>
    public IReadOnlyList<Parameter> HeadParameters() =>
        _tasks.SelectMany(t => t.Task.Head.parameters()).Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToArray();

    /// <summary>The loss terms of one batch at update <paramref name="update"/> (freezing applied first: the
    /// upstream trains only once its freeze period has passed).</summary>
    /// <param name="batch">The batch; tasks whose label set it lacks are skipped.</param>
    /// <param name="update">The update being computed (0-based).</param>
    /// <param name="applyFreezing">Set the upstream's <c>requires_grad</c> flags for this update
    /// (<see cref="UpstreamModel.ApplyFreezing"/>); false when a trainer owns them.</param>
    /// <returns>Terms named <c>task.term</c> with weight = task weight × term weight; empty when no task has labels in the batch.</returns>
    public IReadOnlyList<TaskLossTerm> Compute(AudioBatch batch, long update, bool applyFreezing = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (applyFreezing) Upstream.ApplyFreezing(update);
        var active = _tasks.Where(t => batch.Labels.ContainsKey(t.Task.LabelName)).ToArray();
        if (active.Length == 0) return [];
        using var scope = NewDisposeScope();
        using var features = Upstream.Extract(batch.Waveforms, batch.Lengths, update);
        var terms = new List<TaskLossTerm>();
        foreach (var (task, weight) in active)
            foreach (var term in task.Losses(features, batch))
                terms.Add(new TaskLossTerm($"{task.Name}.{term.Name}", term.Value.MoveToOuterDisposeScope(), weight * term.Weight));
        return terms;
    }

    /// <summary>The weighted sum of <paramref name="terms"/> (float32 scalar).</summary>
    /// <exception cref="ArgumentException">No terms.</exception>
    public static Tensor Total(IReadOnlyList<TaskLossTerm> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Count == 0) throw new ArgumentException("No loss terms to add.", nameof(terms));
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var t in terms)
        {
            using var weight = t.Weight.ToScalar();
            var v = t.Value.to_type(ScalarType.Float32).mul(weight);
            total = total is null ? v : total.add(v, Scalars.One);
        }
        return total!.MoveToOuterDisposeScope();
    }
}
