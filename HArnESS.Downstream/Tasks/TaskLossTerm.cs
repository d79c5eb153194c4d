using static TorchSharp.torch;

namespace HArnESS.Downstream.Tasks;

/// <summary>One named loss term of a downstream task: a scalar tensor carrying the graph, and its weight in the
/// total (the shape the trainer's objective interface takes: batch → named loss terms).</summary>
/// <param name="Name">Term name ("ce", "ctc", "aam"); a multi-task objective prefixes the task name ("kws.ce").</param>
/// <param name="Value">Scalar loss.</param>
/// <param name="Weight">Weight in the total.</param>
public sealed record TaskLossTerm(string Name, Tensor Value, double Weight = 1.0);
