using HArnESS.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Builds the immutable <see cref="RuntimeOptions"/> for the options framework (its default factory can only mutate):
/// starts from the defaults, applies each registered <see cref="Step"/> in order, fills the container's logger
/// factory when none was chosen, then runs every <see cref="IValidateOptions{TOptions}"/> and throws their failures
/// together, as the framework's own factory does.
/// </summary>
internal sealed class RuntimeOptionsFactory(
    IEnumerable<RuntimeOptionsFactory.Step> steps,
    IEnumerable<IValidateOptions<RuntimeOptions>> validators,
    ILoggerFactory? loggerFactory = null) : IOptionsFactory<RuntimeOptions>
{
    /// <summary>One <c>AddHArnessCore(configure)</c> call's transformation.</summary>
    internal sealed record Step(Func<RuntimeOptions, RuntimeOptions> Apply);

    public RuntimeOptions Create(string name)
    {
        var options = new RuntimeOptions();
        foreach (var step in steps)
            options = step.Apply(options) ?? throw new InvalidOperationException("An AddHArnessCore configure function returned null.");
        if (ReferenceEquals(options.LoggerFactory, NullLoggerFactory.Instance) && loggerFactory is not null)
            options = options with { LoggerFactory = loggerFactory };

        var failures = validators.Select(v => v.Validate(name, options)).Where(r => r.Failed).SelectMany(r => r.Failures ?? []).ToList();
        if (failures.Count > 0) throw new OptionsValidationException(name, typeof(RuntimeOptions), failures);
        return options;
    }
}
