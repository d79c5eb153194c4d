using HArnESS.DependencyInjection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>Registers what HArnESS.Distillation owns in a Microsoft.Extensions.DependencyInjection container.</summary>
public static class HArnessDistillationServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DistillationServiceOptions"/> as <c>IOptions&lt;T&gt;</c> (also resolvable directly) with the
    /// <see cref="DistillationServiceOptionsValidator"/> and <c>ValidateOnStart()</c>, the
    /// <see cref="TargetGeneratorService"/> and the <see cref="DistillationJobRunner"/> (singletons), and what
    /// HArnESS.Core owns (<c>AddHArness()</c>: runtime, trainer options, encoder and trainer factories) when it is not
    /// registered yet. Options that leave <see cref="DistillationServiceOptions.LoggerFactory"/> at the null default
    /// get the container's <c>ILoggerFactory</c>. Several calls compose in order.
    /// </summary>
    /// <param name="services">The container.</param>
    /// <param name="configure">Shapes the immutable options, e.g. <c>o =&gt; o with { Loss = RegressionLossOptions.Mse }</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddHArnessDistillation(this IServiceCollection services,
        Func<DistillationServiceOptions, DistillationServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ServiceType == typeof(ITrainerFactory))) services.AddHArness();
        services.AddHArnessOptions(configure, new DistillationServiceOptionsValidator(),
            (o, lf) => ReferenceEquals(o.LoggerFactory, NullLoggerFactory.Instance) ? o with { LoggerFactory = lf } : o);
        services.TryAddSingleton<TargetGeneratorService>();
        services.TryAddSingleton<DistillationJobRunner>();
        return services;
    }
}
