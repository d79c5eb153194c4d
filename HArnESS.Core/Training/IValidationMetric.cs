namespace HArnESS.Training;

/// <summary>
/// A metric computed over the validation source (accuracy, WER, EER, a masked-prediction accuracy), which picks the
/// best checkpoint and drives early stopping. Without one, the trainer uses the mean validation total loss
/// (lower is better). Called in eval mode under no-grad, on the caller's thread.
/// </summary>
/// <typeparam name="TBatch">The batch type.</typeparam>
public interface IValidationMetric<in TBatch>
{
    /// <summary>Name in logs, progress and the loss history ("accuracy", "wer").</summary>
    string Name { get; }

    /// <summary>True when a larger value is better (accuracy); false for errors and losses.</summary>
    bool HigherIsBetter { get; }

    /// <summary>Starts a validation pass.</summary>
    void Reset();

    /// <summary>Adds one validation batch.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="context">The validation context (eval mode, fixed random sources).</param>
    void Update(TBatch batch, TrainingStepContext context);

    /// <summary>The metric over the batches since <see cref="Reset"/>.</summary>
    double Compute();
}
