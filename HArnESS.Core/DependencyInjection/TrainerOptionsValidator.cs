using HArnESS.Training;

namespace HArnESS.DependencyInjection;

/// <summary>
/// Validates <see cref="TrainerOptions"/> for the options framework by calling <see cref="TrainerOptions.Validate"/>:
/// every invalid value (steps, rates, schedule, checkpoint settings, …) is returned at once, each naming its option.
/// </summary>
public sealed class TrainerOptionsValidator() : HArnessOptionsValidator<TrainerOptions>(o => o.Validate());
