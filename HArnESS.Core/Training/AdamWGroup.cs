namespace HArnESS.Training;

/// <summary>An AdamW parameter group: the peak learning rate (the schedule scales it) and the decoupled weight
/// decay of the tensors in it. The trainer makes two per <see cref="TrainableModule"/>: <c>{module}.decay</c> and
/// <c>{module}.no_decay</c>.</summary>
/// <param name="Name">The group's name in logs.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="WeightDecay">Decoupled weight decay (0 for norms, biases and embeddings).</param>
public sealed record AdamWGroup(string Name, double LearningRate, double WeightDecay);
