using HArnESS.Runtime;
using HArnESS.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HArnESS.DependencyInjection;

/// <summary>Registers what HArnESS.Core owns in a Microsoft.Extensions.DependencyInjection container.</summary>
public static class HArnessCoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RuntimeOptions"/> as <see cref="IOptions{TOptions}"/> (also resolvable directly), the
    /// <see cref="RuntimeOptionsValidator"/> with <c>ValidateOnStart()</c> (a host's start, or
    /// <c>IStartupValidator.Validate()</c>, reports every invalid option at once), and a <see cref="RuntimeInfo"/>
    /// singleton that starts the runtime on first resolution. When the options leave
    /// <see cref="RuntimeOptions.LoggerFactory"/> at its null default, the container's <c>ILoggerFactory</c> is used.
    /// Nothing in HArnESS needs a container; this is a convenience for hosts.
    /// </summary>
    /// <param name="services">The container.</param>
    /// <param name="configure">Shapes the immutable options, e.g. <c>o =&gt; o with { Device = ComputeDevice.Cpu, Seed = 1 }</c>.
    /// Several calls compose in order.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddHArnessCore(this IServiceCollection services, Func<RuntimeOptions, RuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHArnessOptions(configure, new RuntimeOptionsValidator(),
            (o, lf) => ReferenceEquals(o.LoggerFactory, NullLoggerFactory.Instance) ? o with { LoggerFactory = lf } : o);
        services.TryAddSingleton(sp => HArnessRuntime.Initialize(sp.GetRequiredService<IOptions<RuntimeOptions>>().Value));
        return services;
    }

    /// <summary>
    /// Registers everything HArnESS.Core owns: the runtime (<see cref="AddHArnessCore"/>: <see cref="RuntimeOptions"/>,
    /// <see cref="RuntimeInfo"/>), <see cref="TrainerOptions"/> as <see cref="IOptions{TOptions}"/> (also resolvable
    /// directly) with the <see cref="TrainerOptionsValidator"/> and <c>ValidateOnStart()</c>, the
    /// <see cref="ISpeechEncoderFactory"/> and the <see cref="ITrainerFactory"/>. Options that leave their
    /// <c>LoggerFactory</c> at the null default get the container's <c>ILoggerFactory</c>; the services log through it.
    /// A host's start reports every invalid runtime and trainer option at once (one
    /// <see cref="OptionsValidationException"/> per options type, gathered in an <see cref="AggregateException"/> when
    /// both fail). Several calls compose in order. Other assemblies add theirs with <c>AddHArnessDistillation</c>, ….
    /// </summary>
    /// <param name="services">The container.</param>
    /// <param name="configure">Shapes the options, e.g.
    /// <c>h =&gt; h.Runtime(o =&gt; o with { Device = ComputeDevice.Cpu }).Trainer(o =&gt; o with { MaxSteps = 100 })</c>;
    /// null keeps the defaults (then the trainer options fail on start: <see cref="TrainerOptions.MaxSteps"/> must be set).</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddHArness(this IServiceCollection services, Func<HArnessServicesBuilder, HArnessServicesBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new HArnessServicesBuilder();
        if (configure is not null) builder = configure(builder) ?? throw new InvalidOperationException("The AddHArness configure function returned null.");
        services.AddHArnessCore();
        foreach (var step in builder.RuntimeSteps) services.AddHArnessCore(step);
        services.AddHArnessOptions<TrainerOptions>(null, new TrainerOptionsValidator(),
            (o, lf) => ReferenceEquals(o.LoggerFactory, NullLoggerFactory.Instance) ? o with { LoggerFactory = lf } : o);
        foreach (var step in builder.TrainerSteps) services.AddHArnessOptions(step, new TrainerOptionsValidator());
        services.TryAddSingleton<ISpeechEncoderFactory, SpeechEncoderService>();
        services.TryAddSingleton<ITrainerFactory, TrainerFactory>();
        return services;
    }
}
