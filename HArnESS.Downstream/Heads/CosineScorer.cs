using HArnESS.Downstream.Data;
using HArnESS.Downstream.Metrics;

namespace HArnESS.Downstream.Heads;

/// <summary>Cosine scoring of verification trials from utterance embeddings, optionally score-normalised against
/// a cohort (<see cref="ScoreNormalization"/>), and the EER/minDCF of the result.</summary>
public static class CosineScorer
{
    /// <summary>Cosine similarity of two embeddings (0 when either is the zero vector).</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Embeddings differ in width ({a.Length} vs {b.Length}).", nameof(b));
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    /// <summary>Scores every trial.</summary>
    /// <param name="embeddings">Embedding per utterance, keyed as the trial list names utterances.</param>
    /// <param name="trials">The trials.</param>
    /// <param name="options">Scoring options; null = raw cosine.</param>
    /// <param name="cohort">Impostor embeddings for score normalisation (speakers outside the trials).</param>
    /// <returns>One score per trial, in trial order.</returns>
    /// <exception cref="HArnessDataException">A trial names an utterance with no embedding; the message names it, the trial and the list.</exception>
    /// <exception cref="HArnessConfigException">Normalisation is asked for without a cohort of at least two embeddings.</exception>
    /// <exception cref="HArnessValidationException">The options are invalid.</exception>
    public static double[] Score(IReadOnlyDictionary<string, float[]> embeddings, TrialList trials, CosineScoringOptions? options = null,
        IReadOnlyList<float[]>? cohort = null)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(trials);
        options ??= new CosineScoringOptions();
        options.Validate();
        if (options.Normalization != ScoreNormalization.None && (cohort is null || cohort.Count < 2))
            throw new HArnessConfigException($"{options.Normalization} needs a cohort of at least two embeddings, got {cohort?.Count ?? 0}.", nameof(cohort));
        float[] Get(string u, int i) => embeddings.TryGetValue(u, out var e)
            ? e
            : throw new HArnessDataException($"Trial {i + 1} of '{trials.Path ?? "(in memory)"}' names utterance '{u}', which has no embedding.", trials.Path);
        var stats = new Dictionary<string, (double Mean, double Std)>(StringComparer.Ordinal);
        (double Mean, double Std) Stats(string u, float[] e)
        {
            if (stats.TryGetValue(u, out var s)) return s;
            var scores = cohort!.Select(c => Cosine(e, c)).ToArray();
            if (options.Normalization == ScoreNormalization.AdaptiveSNorm)
                scores = scores.OrderByDescending(x => x).Take(Math.Min(options.CohortTopK, scores.Length)).ToArray();
            var mean = scores.Average();
            var std = Math.Sqrt(scores.Sum(x => (x - mean) * (x - mean)) / scores.Length);
            return stats[u] = (mean, Math.Max(std, 1e-12));
        }
        var result = new double[trials.Trials.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var t = trials.Trials[i];
            var a = Get(t.Enrollment, i);
            var b = Get(t.Test, i);
            var s = Cosine(a, b);
            if (options.Normalization != ScoreNormalization.None)
            {
                var (me, se) = Stats(t.Enrollment, a);
                var (mt, st) = Stats(t.Test, b);
                s = 0.5 * ((s - me) / se + (s - mt) / st);
            }
            result[i] = s;
        }
        return result;
    }

    /// <summary>Scores the trials and computes EER and minDCF.</summary>
    /// <param name="embeddings">Embedding per utterance.</param>
    /// <param name="trials">The trials (with both target and non-target trials).</param>
    /// <param name="options">Scoring options.</param>
    /// <param name="cohort">Cohort for normalisation.</param>
    /// <param name="dcf">DCF operating point.</param>
    /// <exception cref="HArnessDataException">As <see cref="Score"/>.</exception>
    public static VerificationReport Evaluate(IReadOnlyDictionary<string, float[]> embeddings, TrialList trials, CosineScoringOptions? options = null,
        IReadOnlyList<float[]>? cohort = null, DcfOptions? dcf = null)
    {
        var scores = Score(embeddings, trials, options, cohort);
        return VerificationReport.Compute(scores, trials.Trials.Select(t => t.IsTarget).ToArray(), dcf);
    }
}
