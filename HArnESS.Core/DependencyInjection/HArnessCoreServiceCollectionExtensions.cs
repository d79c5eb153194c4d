using HArnESS.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        if (configure is not null) services.AddSingleton(new RuntimeOptionsFactory.Step(configure));
        services.AddOptions<RuntimeOptions>().ValidateOnStart();
        services.RemoveAll<IOptionsFactory<RuntimeOptions>>();
        services.AddSingleton<IOptionsFactory<RuntimeOptions>, RuntimeOptionsFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RuntimeOptions>, RuntimeOptionsValidator>());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<RuntimeOptions>>().Value);
        services.TryAddSingleton(sp => HArnessRuntime.Initialize(sp.GetRequiredService<IOptions<RuntimeOptions>>().Value));
        return services;
    }
}
