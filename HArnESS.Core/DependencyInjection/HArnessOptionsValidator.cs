using Microsoft.Extensions.Options;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Validates an HArnESS options record for the options framework by calling its own <c>Validate()</c> (the delegate
/// given): every <see cref="HArnessValidationException.Errors"/> entry becomes one failure <c>"Option: message"</c>,
/// and the framework raises them together as an <see cref="OptionsValidationException"/>. Other exceptions propagate.
/// </summary>
/// <typeparam name="TOptions">The options record.</typeparam>
/// <param name="validate">The record's own validation, e.g. <c>o =&gt; o.Validate()</c>; it throws
/// <see cref="HArnessValidationException"/> listing every problem.</param>
public class HArnessOptionsValidator<TOptions>(Action<TOptions> validate) : IValidateOptions<TOptions> where TOptions : class
{
    private readonly Action<TOptions> _validate = validate ?? throw new ArgumentNullException(nameof(validate));

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            _validate(options);
            return ValidateOptionsResult.Success;
        }
        catch (HArnessValidationException e)
        {
            return ValidateOptionsResult.Fail(e.Errors.Select(x => $"{x.Option}: {x.Message}"));
        }
    }
}
