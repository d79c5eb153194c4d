using HArnESS.Runtime;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Validates <see cref="RuntimeOptions"/> for the options framework by calling <see cref="RuntimeOptions.Validate"/>:
/// every failure is returned at once (the framework raises them together as an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>),
/// each message naming its option.
/// </summary>
public sealed class RuntimeOptionsValidator() : HArnessOptionsValidator<RuntimeOptions>(o => o.Validate());
