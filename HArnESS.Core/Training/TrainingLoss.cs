using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Training;

/// <summary>
/// What an objective returns for one batch: its named terms and their weighted total
/// <c>Total = Σ weight · term</c>, computed in float32 whatever dtype the terms came in (mixed precision keeps losses
/// in fp32). <see cref="SampleSize"/> weighs this batch against the others of an accumulated step.
/// </summary>
public sealed class TrainingLoss : IDisposable
{
    /// <summary>Builds the loss and its total.</summary>
    /// <param name="terms">At least one term, with distinct names.</param>
    /// <param name="sampleSize">How much this batch counts when gradients are accumulated over several batches: the
    /// accumulated gradient is <c>Σ sampleSize_i · ∇total_i / Σ sampleSize_i</c>. Use the number of items (or frames)
    /// the loss is a mean over, and one step over a batch of 8 equals 4 accumulated steps over batches of 2; the
    /// default 1 weighs batches equally.</param>
    /// <exception cref="ArgumentException">No terms, a duplicate or badly formed name, a non-scalar term, or a
    /// sample size that is not positive and finite.</exception>
    public TrainingLoss(IReadOnlyList<LossTerm> terms, double sampleSize = 1)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Count == 0) throw new ArgumentException("Expected at least one loss term, got none.", nameof(terms));
        if (!(sampleSize > 0) || double.IsInfinity(sampleSize))
            throw new ArgumentOutOfRangeException(nameof(sampleSize), sampleSize, "Must be positive and finite.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in terms)
        {
            if (string.IsNullOrEmpty(t.Name) || !t.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
                throw new ArgumentException($"Loss term name '{t.Name}' must be non-empty and use letters, digits, '_', '-' or '.'.", nameof(terms));
            if (t.Name == "total") throw new ArgumentException("'total' is reserved for the weighted sum of the terms.", nameof(terms));
            if (!seen.Add(t.Name)) throw new ArgumentException($"Loss term '{t.Name}' appears twice.", nameof(terms));
            if (t.Value.numel() != 1)
                throw new ArgumentException($"Loss term '{t.Name}' must be a scalar, got shape [{string.Join(", ", t.Value.shape)}].", nameof(terms));
        }
        Terms = terms;
        SampleSize = sampleSize;
        Tensor? total = null;
        foreach (var t in terms)
        {
            var v = t.Value.reshape([]).to_type(ScalarType.Float32);
            using var weight = t.Weight.ToScalar();
            var w = t.Weight == 1.0 ? v : v.mul(weight);
            total = total is null ? w : total.add(w, Scalars.One);
        }
        Total = total!;
    }

    /// <summary>Creates a loss from (name, value, weight) triples.</summary>
    /// <param name="terms">The terms.</param>
    public static TrainingLoss From(params (string Name, Tensor Value, double Weight)[] terms) =>
        new(terms.Select(t => new LossTerm(t.Name, t.Value, t.Weight)).ToArray());

    /// <summary>Creates a loss of one term named <paramref name="name"/> with weight 1.</summary>
    /// <param name="value">The scalar loss.</param>
    /// <param name="name">The term's name.</param>
    /// <param name="sampleSize">See the constructor.</param>
    public static TrainingLoss Single(Tensor value, string name = "loss", double sampleSize = 1) =>
        new([new LossTerm(name, value)], sampleSize);

    /// <summary>The terms, as the objective returned them.</summary>
    public IReadOnlyList<LossTerm> Terms { get; }

    /// <summary>The weighted total (float32 scalar) the trainer differentiates.</summary>
    public Tensor Total { get; }

    /// <summary>This batch's weight in an accumulated step.</summary>
    public double SampleSize { get; }

    /// <summary>Disposes the total and the terms' tensors.</summary>
    public void Dispose()
    {
        Total.Dispose();
        foreach (var t in Terms) t.Value.Dispose();
    }
}
