using static TorchSharp.torch;

namespace HArnESS.Training;

/// <summary>One named loss term of an objective: a scalar tensor and its weight in the total.</summary>
/// <param name="Name">The term's name in logs, progress, the loss history and non-finite errors ("l1", "cos",
/// "kl", "ce"); letters, digits, '_', '-' and '.' only.</param>
/// <param name="Value">A scalar (0-d or one-element) tensor that carries the graph for backward.</param>
/// <param name="Weight">Its weight in <see cref="TrainingLoss.Total"/> (a weight of 0 logs the term without training on it).</param>
public sealed record LossTerm(string Name, Tensor Value, double Weight = 1.0);
