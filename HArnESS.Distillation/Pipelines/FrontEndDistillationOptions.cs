using HArnESS.Distillation.Losses;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// Stage 1 of Wang et al.'s two-stage front-end distillation, run by <see cref="DistillationBuilder.RunAsync"/> before
/// the usual losses train the whole student: for <see cref="Steps"/> updates only the student's front-end (CNN, Fbank
/// projection or convolutional subsampler), its feature projection, positional convolution (and a post-LN model's
/// encoder layer norm) and one fresh linear projection learn to match the teacher's <c>hidden_states[0]</c>, the input
/// to its first transformer layer (<see cref="Students.StudentPresets.FrontEndStage"/>,
/// <see cref="Students.DistillationStudent.FrontEndParameters"/>); the transformer layers are neither run nor
/// changed. The stage needs the student's and teacher's frame rates to agree (a 10 ms fbank front-end must stack 2
/// frames, or subsample by 2, to meet a 20 ms teacher); otherwise the plan is refused by name before any step.
/// </summary>
public sealed record FrontEndDistillationOptions
{
    /// <summary>Updates of stage 1 (default 1000), at least 1.</summary>
    public long Steps { get; init; } = 1000;

    /// <summary>Stage 1's peak learning rate; null (default) = the run's <see cref="Training.TrainerOptions.LearningRate"/>.
    /// The run's schedule, clipping, precision and seed apply to stage 1 too.</summary>
    public double? LearningRate { get; init; }

    /// <summary>The loss between the projected student <c>hidden_states[0]</c> and the teacher's (default
    /// DistilHuBERT's L1 + −log σ(cos); HArnESS's choice, Wang et al. do not fix it for this stage).</summary>
    public RegressionLossOptions Loss { get; init; } = RegressionLossOptions.DistilHubert;

    /// <summary>Adds every invalid value to <paramref name="errors"/>, named under <c>FrontEndDistillation.</c>.</summary>
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Require(Steps >= 1, "FrontEndDistillation.Steps", $"FrontEndDistillation.Steps must be at least 1, got {Steps}.");
        errors.Require(LearningRate is null || (LearningRate > 0 && double.IsFinite(LearningRate.Value)), "FrontEndDistillation.LearningRate",
            $"FrontEndDistillation.LearningRate must be positive and finite, got {LearningRate}.");
        if (Loss is null) errors.Add("FrontEndDistillation.Loss", "FrontEndDistillation.Loss must not be null.");
        else
        {
            try { Loss.Validate(); }
            catch (HArnessValidationException ex) { errors.AddRange(ex.Errors, "FrontEndDistillation.Loss"); }
            catch (HArnessConfigException ex) { errors.Add("FrontEndDistillation.Loss", ex.Message); }
        }
    }
}
