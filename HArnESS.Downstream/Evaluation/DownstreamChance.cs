using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Text;

namespace HArnESS.Downstream.Evaluation;

/// <summary>
/// What a model that ignores its input scores on each <see cref="DownstreamSuite"/> task of a corpus, in the suite's
/// units (percent): the bar a trained model has to clear before its number means anything. Measured on the corpus, not
/// assumed: a test split with a dominant class makes "1 / classes" far too low a bar (the demo corpus's DID test split
/// is 41 % Arabic against 25 % for four classes).
/// </summary>
/// <param name="AsrCer">CER of the best constant transcript on the test split: the lowest of the empty output (the
/// all-blank CTC answer), the most frequent training transcript, and the most frequent training character.</param>
/// <param name="AsrWer">WER of the empty output (100): every constant transcript of training words scores at least that
/// on a test split of varied sentences, so the empty one is the reference.</param>
/// <param name="SerUa">Unweighted accuracy of any constant answer: 100 / emotion classes.</param>
/// <param name="SerAccuracy">Accuracy of the best constant answer: the larger of 100 / classes and the test split's
/// majority emotion.</param>
/// <param name="DidAccuracy">The same for dialects (<c>.dia</c>).</param>
/// <param name="KwsAccuracy">The same for keywords (<c>kws_*.kws</c>).</param>
/// <param name="SvEer">EER of scores that carry no speaker information: 50.</param>
public sealed record DownstreamChance(double AsrCer, double AsrWer, double SerUa, double SerAccuracy, double DidAccuracy, double KwsAccuracy, double SvEer)
{
    /// <summary>Measures the chance levels from the label files of a corpus laid out as the demo corpus
    /// (<c>train.wrd</c>/<c>test.wrd</c>, <c>train.emo</c>/<c>test.emo</c>, <c>train.dia</c>/<c>test.dia</c>,
    /// <c>kws_train.kws</c>/<c>kws_test.kws</c>).</summary>
    /// <param name="corpusDirectory">The corpus folder.</param>
    /// <param name="normalization">Text normalisation of the ASR references and hypotheses; null = the defaults the
    /// suite's character vocabulary uses.</param>
    /// <exception cref="HArnessDataException">A label file is missing or empty.</exception>
    public static DownstreamChance Measure(string corpusDirectory, TextNormalizationOptions? normalization = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(corpusDirectory);
        string[] Lines(string file)
        {
            var path = Path.Combine(corpusDirectory, file);
            if (!File.Exists(path))
                throw new HArnessDataException($"The corpus folder '{Path.GetFullPath(corpusDirectory)}' has no '{file}' (the demo corpus layout is expected).", path);
            var lines = File.ReadAllLines(path).Select(l => l.Trim()).ToArray();
            return lines.Any(l => l.Length > 0) ? lines : throw new HArnessDataException($"'{file}' has no labels.", path);
        }
        double Constant(string train, string test, bool unweighted)
        {
            var classes = Lines(train).Where(l => l.Length > 0).Distinct(StringComparer.Ordinal).Count();
            if (unweighted) return 100.0 / classes;
            var labels = Lines(test);
            var majority = labels.GroupBy(l => l, StringComparer.Ordinal).Max(g => g.Count()) / (double)labels.Length;
            return 100 * Math.Max(1.0 / classes, majority);
        }

        var trainText = Lines("train.wrd");
        var testText = Lines("test.wrd");
        var norm = normalization ?? new CharacterVocabularyOptions().Normalization;
        var commonTranscript = trainText.GroupBy(t => t, StringComparer.Ordinal).OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
        var commonCharacter = trainText.SelectMany(t => t.Where(c => !char.IsWhiteSpace(c))).GroupBy(c => c)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.Key.ToString()).FirstOrDefault() ?? "";
        var cer = new[] { "", commonTranscript, commonCharacter }.Distinct(StringComparer.Ordinal)
            .Min(h => ErrorRates.Character(testText, testText.Select(_ => h).ToArray(), norm).Percent);
        return new DownstreamChance(
            AsrCer: cer,
            AsrWer: 100,
            SerUa: Constant("train.emo", "test.emo", unweighted: true),
            SerAccuracy: Constant("train.emo", "test.emo", unweighted: false),
            DidAccuracy: Constant("train.dia", "test.dia", unweighted: false),
            KwsAccuracy: Constant("kws_train.kws", "kws_test.kws", unweighted: false),
            SvEer: 50);
    }
}
