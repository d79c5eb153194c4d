using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Losses;

/// <summary>A loss value to back-propagate (<see cref="Total"/>) and its named parts, unweighted, for logging
/// (e.g. <c>rec_l4</c>, <c>sim_l4</c>, <c>kl</c>, <c>masked_ce</c>). Every tensor is a scalar on the inputs'
/// device; the parts stay attached to the graph. Disposing disposes all of them.</summary>
public sealed class LossTerms : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _terms;

    /// <summary>Creates the result; the tensors are owned by it from now on.</summary>
    /// <param name="total">The weighted sum the trainer minimises.</param>
    /// <param name="terms">Named parts in report order; names are unique.</param>
    /// <exception cref="ArgumentException">Two parts share a name.</exception>
    public LossTerms(Tensor total, IEnumerable<KeyValuePair<string, Tensor>> terms)
    {
        ArgumentNullException.ThrowIfNull(total);
        ArgumentNullException.ThrowIfNull(terms);
        Total = total;
        _terms = [.. terms];
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in _terms)
            if (!dict.TryAdd(k, v)) throw new ArgumentException($"Loss term '{k}' appears twice.", nameof(terms));
        Terms = dict;
    }

    /// <summary>The scalar to call <c>backward()</c> on: the parts combined with their weights.</summary>
    public Tensor Total { get; }

    /// <summary>The unweighted parts by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Terms { get; }

    /// <summary>The part names in report order.</summary>
    public IReadOnlyList<string> Names => _terms.Select(t => t.Key).ToArray();

    /// <summary>Copies every part and the total (as <c>total</c>) to doubles, for logs and progress reports.</summary>
    public IReadOnlyDictionary<string, double> ToValues()
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal) { ["total"] = Total.ToDouble() };
        foreach (var (k, v) in _terms) d[k] = v.ToDouble();
        return d;
    }

    /// <summary>Moves the tensors out of the caller's current dispose scope (as <c>MoveToOuterDisposeScope</c>).</summary>
    public LossTerms MoveToOuterDisposeScope()
    {
        Total.MoveToOuterDisposeScope();
        foreach (var (_, v) in _terms) v.MoveToOuterDisposeScope();
        return this;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Total.Dispose();
        foreach (var (_, v) in _terms) v.Dispose();
    }
}
