using HArnESS.Runtime;
using Microsoft.Extensions.Options;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Validates <see cref="RuntimeOptions"/> for the options framework by calling <see cref="RuntimeOptions.Validate"/>:
/// every failure is returned at once (the framework raises them together as an <see cref="OptionsValidationException"/>),
/// each message naming its option.
/// </summary>
public sealed class RuntimeOptionsValidator : IValidateOptions<RuntimeOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, RuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (HArnessValidationException e)
        {
            return ValidateOptionsResult.Fail(e.Errors.Select(x => $"{x.Option}: {x.Message}"));
        }
    }
}
