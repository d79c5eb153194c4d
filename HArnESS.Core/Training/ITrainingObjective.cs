namespace HArnESS.Training;

/// <summary>
/// Turns a batch into named loss terms: the part of a training run that differs between masked pre-training,
/// distillation and fine-tuning. It runs the forward pass of the trainer's modules (held by the objective itself) on
/// the caller's thread, inside a dispose scope the trainer opens per batch.
/// </summary>
/// <remarks>
/// Draw every random choice (masks, crops, shuffled segments) from <see cref="TrainingStepContext.Generator"/> or
/// <see cref="TrainingStepContext.Random"/>: they are seeded per step by the trainer, which is what makes a resumed run
/// bit-identical. Dropout and layer drop draw from libtorch's global generator, which the trainer also seeds per step.
/// Under mixed precision cast inputs with <see cref="TrainingStepContext.CastInput"/> and compute losses from
/// float32 logits/targets (<c>logits.to_type(Float32)</c>).
/// </remarks>
/// <typeparam name="TBatch">The batch type.</typeparam>
public interface ITrainingObjective<in TBatch>
{
    /// <summary>Computes the loss of one batch. Called in training mode with gradients on, and, for validation, in
    /// eval mode under no-grad (<see cref="TrainingStepContext.IsTraining"/> says which).</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="context">Step number, device, compute dtype and the per-step random sources.</param>
    TrainingLoss Compute(TBatch batch, TrainingStepContext context);
}
