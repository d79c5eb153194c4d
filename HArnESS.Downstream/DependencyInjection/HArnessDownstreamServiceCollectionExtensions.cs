using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HArnESS.Downstream.DependencyInjection;

/// <summary>Registers what HArnESS.Downstream owns in a Microsoft.Extensions.DependencyInjection container.</summary>
public static class HArnessDownstreamServiceCollectionExtensions
{
    /// <summary>Registers <see cref="DownstreamOptions"/> (validated on first resolution) and its sections as
    /// singletons. Nothing in HArnESS.Downstream needs a container; this is a convenience for hosts.</summary>
    /// <param name="services">The container.</param>
    /// <param name="configure">Shapes the options, e.g. <c>o =&gt; o with { Dcf = new() { TargetPrior = 0.05 } }</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddHArnessDownstream(this IServiceCollection services, Func<DownstreamOptions, DownstreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = configure?.Invoke(new DownstreamOptions()) ?? new DownstreamOptions();
        services.TryAddSingleton(_ =>
        {
            options.Validate();
            return options;
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<DownstreamOptions>().Upstream);
        services.TryAddSingleton(sp => sp.GetRequiredService<DownstreamOptions>().Normalization);
        services.TryAddSingleton(sp => sp.GetRequiredService<DownstreamOptions>().Scoring);
        services.TryAddSingleton(sp => sp.GetRequiredService<DownstreamOptions>().Dcf);
        return services;
    }
}
