using HArnESS.Data;
using HArnESS.Training;

namespace HArnESS.Downstream.Tasks;

/// <summary>A <see cref="DownstreamObjective"/> as the trainer's <see cref="ITrainingObjective{TBatch}"/>: the
/// batch's named task terms become <see cref="LossTerm"/>s (<c>task.term</c>, task weight × term weight), the sample
/// size is the batch's utterance count. The trainer owns freezing and learning rates: build its modules with
/// <see cref="TrainableModules"/>.</summary>
public sealed class DownstreamTrainingObjective : ITrainingObjective<AudioBatch>
{
    /// <summary>Wraps the objective.</summary>
    /// <param name="objective">Upstream and tasks.</param>
    public DownstreamTrainingObjective(DownstreamObjective objective)
    {
        ArgumentNullException.ThrowIfNull(objective);
        Objective = objective;
    }

    /// <summary>The wrapped objective.</summary>
    public DownstreamObjective Objective { get; }

    /// <summary>The trainer's modules: one per task head ("head-&lt;task&gt;", learning rate <paramref name="headLearningRate"/>)
    /// and, unless the upstream is frozen, "upstream" with <paramref name="upstreamLearningRate"/>, its
    /// <see cref="Upstream.UpstreamOptions.FreezeForUpdates"/> and only the parameters <see cref="Upstream.UpstreamModel.TrainableParameters"/> allows.</summary>
    /// <param name="headLearningRate">Peak learning rate of the heads; null = the trainer's.</param>
    /// <param name="upstreamLearningRate">Peak learning rate of the upstream; null = the trainer's.</param>
    public IReadOnlyList<TrainableModule> TrainableModules(double? headLearningRate = null, double? upstreamLearningRate = null)
    {
        var list = Objective.Tasks.Select(t => new TrainableModule("head-" + t.Task.Name, t.Task.Head) { LearningRate = headLearningRate }).ToList();
        var up = Objective.Upstream;
        if (up.Options.Training != Upstream.UpstreamTraining.Frozen)
        {
            var names = new HashSet<string>(up.Encoder.named_parameters()
                .Where(p => up.TrainableParameters().Any(q => ReferenceEquals(q, p.parameter))).Select(p => p.name), StringComparer.Ordinal);
            list.Add(new TrainableModule("upstream", up.Encoder)
            {
                LearningRate = upstreamLearningRate,
                FreezeUpdates = up.Options.FreezeForUpdates,
                TrainParameter = names.Contains,
            });
        }
        return list;
    }

    /// <inheritdoc/>
    public TrainingLoss Compute(AudioBatch batch, TrainingStepContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        var terms = Objective.Compute(batch, context.Step, applyFreezing: false);
        if (terms.Count == 0)
            throw new HArnessDataException($"The batch carries none of the tasks' label sets ({string.Join(", ", Objective.Tasks.Select(t => t.Task.LabelName))}).");
        return new TrainingLoss(terms.Select(t => new LossTerm(t.Name, t.Value, t.Weight)).ToArray(), batch.Count);
    }
}
