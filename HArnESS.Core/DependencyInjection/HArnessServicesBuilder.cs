using HArnESS.Runtime;
using HArnESS.Training;

namespace HArnESS.DependencyInjection;

/// <summary>
/// What <c>services.AddHArness(h =&gt; …)</c> registers: the <see cref="RuntimeOptions"/> and <see cref="TrainerOptions"/>
/// steps, each an immutable-record transformation (<c>o =&gt; o with { … }</c>). Immutable: every method returns a new
/// builder with the step appended; several steps for one record compose in order.
/// </summary>
public sealed class HArnessServicesBuilder
{
    private readonly Func<RuntimeOptions, RuntimeOptions>[] _runtime;
    private readonly Func<TrainerOptions, TrainerOptions>[] _trainer;

    /// <summary>An empty builder (runtime defaults, trainer defaults).</summary>
    public HArnessServicesBuilder() : this([], []) { }

    private HArnessServicesBuilder(Func<RuntimeOptions, RuntimeOptions>[] runtime, Func<TrainerOptions, TrainerOptions>[] trainer) =>
        (_runtime, _trainer) = (runtime, trainer);

    /// <summary>Shapes the runtime options (device, threads, seed, libtorch folder), e.g. <c>o =&gt; o with { Device = ComputeDevice.Cpu }</c>.</summary>
    public HArnessServicesBuilder Runtime(Func<RuntimeOptions, RuntimeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return new([.. _runtime, configure], _trainer);
    }

    /// <summary>Shapes the trainer options (steps, learning rate, checkpoints, resume), e.g.
    /// <c>o =&gt; o with { MaxSteps = 100, CheckpointDirectory = "runs/x" }</c>. The trainer options are validated on
    /// start: <see cref="TrainerOptions.MaxSteps"/> has no valid default and must be set.</summary>
    public HArnessServicesBuilder Trainer(Func<TrainerOptions, TrainerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return new(_runtime, [.. _trainer, configure]);
    }

    internal IReadOnlyList<Func<RuntimeOptions, RuntimeOptions>> RuntimeSteps => _runtime;

    internal IReadOnlyList<Func<TrainerOptions, TrainerOptions>> TrainerSteps => _trainer;
}
