using static TorchSharp.torch;

namespace HArnESS.Downstream.Decoding;

/// <summary>CTC prefix beam search (Hannun et al. 2014, without a language model): each prefix carries the
/// probability of all alignments ending in a blank and of those ending in its last label, so different alignments of
/// the same labels are merged rather than competing. With a beam as wide as the number of distinct prefixes the
/// result is exact: the most probable label sequence and its total probability (the tests check this against
/// enumerating every alignment).</summary>
public static class CtcPrefixBeamSearch
{
    /// <summary>Decodes one utterance.</summary>
    /// <param name="logProbs">Frame log-probabilities (log-softmax outputs), row-major <c>[frames, vocab]</c>.</param>
    /// <param name="vocab">Vocabulary size.</param>
    /// <param name="options">Beam options; null = defaults.</param>
    /// <returns>Up to <see cref="CtcBeamSearchOptions.NBest"/> hypotheses, most probable first.</returns>
    /// <exception cref="ArgumentException">The length is not a multiple of <paramref name="vocab"/>, or the blank is out of range.</exception>
    /// <exception cref="HArnessValidationException">The options are invalid.</exception>
    public static IReadOnlyList<CtcHypothesis> Decode(ReadOnlySpan<float> logProbs, int vocab, CtcBeamSearchOptions? options = null)
    {
        options ??= new CtcBeamSearchOptions();
        options.Validate();
        var blank = options.Blank;
        CtcInput.Check(logProbs.Length, vocab, blank);
        var frames = logProbs.Length / vocab;
        var beam = new Dictionary<Prefix, (double B, double NB)> { [Prefix.Empty] = (0, double.NegativeInfinity) };
        for (var t = 0; t < frames; t++)
        {
            var row = logProbs.Slice(t * vocab, vocab);
            var best = double.NegativeInfinity;
            for (var v = 0; v < vocab; v++) best = Math.Max(best, row[v]);
            var next = new Dictionary<Prefix, (double B, double NB)>(beam.Count * 4);
            void Add(Prefix p, double b, double nb)
            {
                var (ob, onb) = next.TryGetValue(p, out var o) ? o : (double.NegativeInfinity, double.NegativeInfinity);
                next[p] = (LogAdd(ob, b), LogAdd(onb, nb));
            }
            foreach (var (prefix, (pb, pnb)) in beam)
            {
                var total = LogAdd(pb, pnb);
                // Blank: the prefix stays, now ending in a blank.
                Add(prefix, total + row[blank], double.NegativeInfinity);
                for (var v = 0; v < vocab; v++)
                {
                    if (v == blank || row[v] < best - options.TokenPruneLogProb) continue;
                    var lp = row[v];
                    if (v == prefix.Last)
                    {
                        // Repeat without a blank in between: collapses into the same prefix.
                        Add(prefix, double.NegativeInfinity, pnb + lp);
                        // After a blank: a new label.
                        Add(prefix.Append(v), double.NegativeInfinity, pb + lp);
                    }
                    else Add(prefix.Append(v), double.NegativeInfinity, total + lp);
                }
            }
            beam = next.OrderByDescending(kv => LogAdd(kv.Value.B, kv.Value.NB)).ThenBy(kv => kv.Key.Length)
                .Take(options.BeamWidth).ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        return beam.Select(kv => new CtcHypothesis(kv.Key.ToArray(), LogAdd(kv.Value.B, kv.Value.NB)))
            .OrderByDescending(h => h.LogProbability).ThenBy(h => h.Tokens.Count)
            .Take(options.NBest).ToArray();
    }

    /// <summary>Decodes a batch; returns each utterance's n-best list.</summary>
    /// <param name="logProbs"><c>[batch, frames, vocab]</c> log-probabilities (any floating type, any device).</param>
    /// <param name="lengths">Valid frames per utterance <c>[batch]</c>, or null.</param>
    /// <param name="options">Beam options; null = defaults.</param>
    /// <exception cref="ArgumentException"><paramref name="logProbs"/> is not 3-D or <paramref name="lengths"/> does not match it.</exception>
    public static IReadOnlyList<CtcHypothesis>[] Decode(Tensor logProbs, Tensor? lengths = null, CtcBeamSearchOptions? options = null)
    {
        var (rows, vocab) = CtcInput.Rows(logProbs, lengths);
        return rows.Select(r => Decode(r, vocab, options)).ToArray();
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        var m = Math.Max(a, b);
        return m + Math.Log(Math.Exp(a - m) + Math.Exp(b - m));
    }

    /// <summary>An immutable label prefix (a persistent linked list with a cached hash), cheap to extend.</summary>
    private sealed class Prefix : IEquatable<Prefix>
    {
        public static readonly Prefix Empty = new(null, -1);
        private readonly Prefix? _parent;
        private readonly int _hash;

        private Prefix(Prefix? parent, int last)
        {
            _parent = parent;
            Last = last;
            Length = parent is null ? 0 : parent.Length + 1;
            _hash = parent is null ? 17 : HashCode.Combine(parent._hash, last);
        }

        public int Last { get; }

        public int Length { get; }

        public Prefix Append(int v) => new(this, v);

        public int[] ToArray()
        {
            var a = new int[Length];
            var p = this;
            for (var i = Length - 1; i >= 0; i--, p = p._parent!) a[i] = p.Last;
            return a;
        }

        public bool Equals(Prefix? other)
        {
            if (ReferenceEquals(this, other)) return true;
            if (other is null || other._hash != _hash || other.Length != Length) return false;
            for (Prefix? a = this, b = other; a is not null && b is not null; a = a._parent, b = b._parent)
            {
                if (ReferenceEquals(a, b)) return true;
                if (a.Last != b.Last) return false;
            }
            return true;
        }

        public override bool Equals(object? obj) => Equals(obj as Prefix);

        public override int GetHashCode() => _hash;
    }
}
