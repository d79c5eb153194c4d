using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Registers an immutable HArnESS options record (a <c>sealed record</c> with <c>init</c> properties) with the options
/// framework: the pattern every <c>AddHArness…</c> extension follows, public so each assembly (and an application's
/// own records) can use it.
/// </summary>
public static class HArnessOptionsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TOptions"/> as <see cref="IOptions{TOptions}"/> (also resolvable directly as a
    /// singleton), built by a factory that starts from <c>new TOptions()</c> and applies every
    /// <paramref name="configure"/> registered so far in order (several calls compose); the
    /// <paramref name="validator"/> (once per validator type) and <c>ValidateOnStart()</c>, so a host's start, or
    /// <c>IStartupValidator.Validate()</c>, reports every invalid option at once.
    /// </summary>
    /// <typeparam name="TOptions">The options record.</typeparam>
    /// <param name="services">The container.</param>
    /// <param name="configure">Shapes the options, e.g. <c>o =&gt; o with { MaxSteps = 100 }</c>; null adds no step.</param>
    /// <param name="validator">Calls the record's own <c>Validate()</c>, e.g. a <see cref="HArnessOptionsValidator{TOptions}"/>.</param>
    /// <param name="useLoggerFactory">Puts the container's <see cref="ILoggerFactory"/> into options that chose none
    /// (applied after every configure step, only when the container has a logger factory); null when the record has no logger.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddHArnessOptions<TOptions>(this IServiceCollection services, Func<TOptions, TOptions>? configure,
        IValidateOptions<TOptions> validator, Func<TOptions, ILoggerFactory, TOptions>? useLoggerFactory = null) where TOptions : class, new()
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(validator);
        if (configure is not null) services.AddSingleton(new OptionsStep<TOptions>(configure));
        services.AddOptions<TOptions>().ValidateOnStart();
        services.RemoveAll<IOptionsFactory<TOptions>>();
        services.AddSingleton<IOptionsFactory<TOptions>, ImmutableOptionsFactory<TOptions>>();
        if (!services.Any(d => d.ServiceType == typeof(IValidateOptions<TOptions>) && d.ImplementationInstance?.GetType() == validator.GetType()))
            services.AddSingleton(validator);
        if (useLoggerFactory is not null && !services.Any(d => d.ServiceType == typeof(OptionsLoggerFill<TOptions>)))
            services.AddSingleton(new OptionsLoggerFill<TOptions>(useLoggerFactory));
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<TOptions>>().Value);
        return services;
    }
}
