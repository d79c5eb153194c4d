using HArnESS.DependencyInjection;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>Validates <see cref="DistillationServiceOptions"/> for the options framework by calling
/// <see cref="DistillationServiceOptions.Validate"/>: every failure at once, each naming its option.</summary>
public sealed class DistillationServiceOptionsValidator() : HArnessOptionsValidator<DistillationServiceOptions>(o => o.Validate());
