namespace HArnESS.Inference;

/// <summary>An utterance-level classification: the top class and the softmax score of every class.</summary>
/// <param name="Label">The top class's label (its index as text when the model has no labels).</param>
/// <param name="Index">The top class's index.</param>
/// <param name="Scores">Softmax probabilities by class index (sum 1).</param>
public sealed record ClassificationResult(string Label, int Index, IReadOnlyList<float> Scores);
