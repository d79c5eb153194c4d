using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Builds an immutable options record for the options framework (its default factory can only mutate): starts from
/// the record's defaults, applies each registered <see cref="OptionsStep{TOptions}"/> in registration order, lets the
/// registration fill in the container's <see cref="ILoggerFactory"/> when the options chose none, then runs every
/// <see cref="IValidateOptions{TOptions}"/> and throws their failures together, as the framework's own factory does.
/// </summary>
internal sealed class ImmutableOptionsFactory<TOptions>(
    IEnumerable<OptionsStep<TOptions>> steps,
    IEnumerable<IValidateOptions<TOptions>> validators,
    IEnumerable<OptionsLoggerFill<TOptions>> loggerFills,
    ILoggerFactory? loggerFactory = null) : IOptionsFactory<TOptions> where TOptions : class, new()
{
    public TOptions Create(string name)
    {
        var options = new TOptions();
        foreach (var step in steps)
            options = step.Apply(options) ?? throw new InvalidOperationException($"A configure function for {typeof(TOptions).Name} returned null.");
        if (loggerFactory is not null)
            foreach (var fill in loggerFills) options = fill.Apply(options, loggerFactory);

        var failures = validators.Select(v => v.Validate(name, options)).Where(r => r.Failed).SelectMany(r => r.Failures ?? []).ToList();
        if (failures.Count > 0) throw new OptionsValidationException(name, typeof(TOptions), failures);
        return options;
    }
}

/// <summary>One configure call's transformation of an immutable options record.</summary>
internal sealed record OptionsStep<TOptions>(Func<TOptions, TOptions> Apply);

/// <summary>How a registration puts the container's logger factory into options that chose none.</summary>
internal sealed record OptionsLoggerFill<TOptions>(Func<TOptions, ILoggerFactory, TOptions> Apply);
