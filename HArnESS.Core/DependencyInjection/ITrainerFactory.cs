using HArnESS.Training;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Creates <see cref="Trainer{TBatch}"/>s with the container's <see cref="TrainerOptions"/> (registered by
/// <c>AddHArness</c>, validated on start) and logger factory; a job adjusts them per run without touching the
/// registered ones.
/// </summary>
public interface ITrainerFactory
{
    /// <summary>The registered trainer options (with the container's logger factory when they chose none).</summary>
    TrainerOptions Options { get; }

    /// <summary>Creates a trainer (see the <see cref="Trainer{TBatch}"/> constructor) with <see cref="Options"/>, adjusted by
    /// <paramref name="adjust"/> when given (e.g. <c>o =&gt; o with { RunConfig = … }</c>).</summary>
    /// <exception cref="HArnessValidationException">The adjusted options, modules or sources are invalid (every problem at once).</exception>
    Trainer<TBatch> Create<TBatch>(IReadOnlyList<TrainableModule> modules, ITrainingObjective<TBatch> objective, IBatchSource<TBatch> train,
        Func<TrainerOptions, TrainerOptions>? adjust = null, IBatchSource<TBatch>? validation = null, IValidationMetric<TBatch>? metric = null)
        where TBatch : IDisposable;
}
