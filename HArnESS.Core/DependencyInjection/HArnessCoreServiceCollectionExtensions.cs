using HArnESS.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HArnESS.DependencyInjection;

/// <summary>Registers what HArnESS.Core owns in a Microsoft.Extensions.DependencyInjection container.</summary>
public static class HArnessCoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RuntimeOptions"/> and a <see cref="RuntimeInfo"/> singleton that starts the runtime on first
    /// resolution (options are validated then). Nothing in HArnESS needs a container; this is a convenience for hosts.
    /// </summary>
    /// <param name="services">The container.</param>
    /// <param name="configure">Shapes the options, e.g. <c>o =&gt; o with { Device = ComputeDevice.Cpu, Seed = 1 }</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddHArnessCore(this IServiceCollection services, Func<RuntimeOptions, RuntimeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = configure?.Invoke(new RuntimeOptions()) ?? new RuntimeOptions();
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => HArnessRuntime.Initialize(sp.GetRequiredService<RuntimeOptions>()));
        return services;
    }
}
