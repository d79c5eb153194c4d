using HArnESS.Runtime;
using HArnESS.Training;
using Microsoft.Extensions.Options;

namespace HArnESS.DependencyInjection;

/// <summary>The container's <see cref="ITrainerFactory"/>: depends on <see cref="RuntimeInfo"/>, so the runtime is
/// started with the registered options before any trainer is made.</summary>
internal sealed class TrainerFactory(IOptions<TrainerOptions> options, RuntimeInfo runtime) : ITrainerFactory
{
    public TrainerOptions Options { get; } = options.Value;

    public Trainer<TBatch> Create<TBatch>(IReadOnlyList<TrainableModule> modules, ITrainingObjective<TBatch> objective, IBatchSource<TBatch> train,
        Func<TrainerOptions, TrainerOptions>? adjust = null, IBatchSource<TBatch>? validation = null, IValidationMetric<TBatch>? metric = null)
        where TBatch : IDisposable
    {
        _ = runtime;
        var o = adjust is null ? Options : adjust(Options) ?? throw new InvalidOperationException("The trainer options adjustment returned null.");
        return new Trainer<TBatch>(modules, objective, train, o, validation, metric);
    }
}
