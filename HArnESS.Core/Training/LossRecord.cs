namespace HArnESS.Training;

/// <summary>One row of the loss history: the terms of one update ("train") or one validation pass ("valid").</summary>
/// <param name="Step">Updates done when it was recorded (1 for the first update).</param>
/// <param name="Epoch">The epoch of the update's last batch (0-based).</param>
/// <param name="Split">"train" or "valid".</param>
/// <param name="Terms">Loss terms by name, "total" included (and the validation metric, under its name).</param>
/// <param name="LearningRate">The update's learning rate (first module), NaN for validation rows.</param>
/// <param name="GradientNorm">The update's global gradient norm before clipping, NaN for validation rows.</param>
public sealed record LossRecord(long Step, int Epoch, string Split, IReadOnlyDictionary<string, double> Terms,
    double LearningRate, double GradientNorm);
