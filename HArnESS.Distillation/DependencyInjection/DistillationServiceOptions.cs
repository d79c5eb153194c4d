using HArnESS.Distillation.Losses;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>
/// How the container's <see cref="DistillationJobRunner"/> distils (registered by <c>AddHArnessDistillation</c>,
/// validated on start). The trainer's own settings (steps, learning rate, checkpoints, resume) are the container's
/// <see cref="Training.TrainerOptions"/> (<c>AddHArness(h =&gt; h.Trainer(…))</c>).
/// </summary>
public sealed record DistillationServiceOptions
{
    /// <summary>The layer-regression loss between the student's predictions and the teacher's hidden states (default
    /// DistilHuBERT's: L1 + λ·(−log σ(cos)), λ = 1). A job may override it (<see cref="DistillationJob.Loss"/>).</summary>
    public RegressionLossOptions Loss { get; init; } = RegressionLossOptions.DistilHubert;

    /// <summary>Where the job runner and the target generator log; the null default means the container's
    /// <c>ILoggerFactory</c> (filled in at registration).</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Checks every value and throws all problems at once (the loss options' problems named <c>Loss.{Option}</c>).</summary>
    /// <exception cref="HArnessValidationException">Lists every invalid option.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        if (Loss is null) e.Add(nameof(Loss), "Loss must not be null.");
        else
        {
            try { Loss.Validate(); }
            catch (HArnessValidationException x)
            {
                foreach (var error in x.Errors) e.Add($"{nameof(Loss)}.{error.Option}", error.Message);
            }
        }
        e.Require(LoggerFactory is not null, nameof(LoggerFactory), "LoggerFactory must not be null.");
        e.ThrowIfAny(nameof(DistillationServiceOptions));
    }
}
