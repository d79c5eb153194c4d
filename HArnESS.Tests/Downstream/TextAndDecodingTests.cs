using HArnESS.Data;
using HArnESS.Downstream.Decoding;
using HArnESS.Downstream.Metrics;
using HArnESS.Downstream.Text;
using NUnit.Framework;

namespace HArnESS.Tests.Downstream;

public sealed class TextNormalizerTests
{
    [Test]
    public void DefaultsRemoveDiacriticsAndTatweelAndUnifyAlef()
    {
        // "إِلَى الْمَدْرَسَةِ" with a tatweel: diacritics and ـ removed, إ → ا; ى and ة kept by default.
        Assert.That(TextNormalizer.Normalize("إِلَى  الْمَـدْرَسَةِ "), Is.EqualTo("الى المدرسة"));
        Assert.That(TextNormalizer.Normalize("أحمد آمن ٱلله"), Is.EqualTo("احمد امن الله"));
        var folded = new TextNormalizationOptions { FoldAlefMaqsura = true, FoldTaMarbuta = true, FoldArabicDigits = true, RemovePunctuation = true };
        Assert.That(TextNormalizer.Normalize("على المدرسة، ٣ ۴؟", folded), Is.EqualTo("علي المدرسه 3 4"));
        Assert.That(TextNormalizer.Normalize("Hello, World!", new TextNormalizationOptions { LatinCase = LatinCase.Upper, RemovePunctuation = true }), Is.EqualTo("HELLO WORLD"));
        Assert.That(TextNormalizer.Normalize("كَتَبَ", TextNormalizationOptions.None), Is.EqualTo("كَتَبَ"));
    }

    [Test]
    public void ErrorRatesNormaliseBothSidesIdentically()
    {
        // Diacritics in the reference only, alef variants in the hypothesis only: no error once normalised.
        string[] refs = ["ذَهَبَ الوَلَدُ إلى المدرسة"];
        string[] hyps = ["ذهب الولد الى المدرسة"];
        Assert.That(ErrorRates.Word(refs, hyps).Counts.Errors, Is.EqualTo(3), "unnormalised: three words differ");
        Assert.That(ErrorRates.Word(refs, hyps, new TextNormalizationOptions()).Counts.Errors, Is.Zero);
        Assert.That(ErrorRates.Character(refs, hyps, new TextNormalizationOptions()).Rate, Is.Zero);
    }
}

public sealed class CharacterVocabularyTests
{
    [Test]
    public void BuildsFairseqLetterVocabularyWithBlankAtZero()
    {
        var v = CharacterVocabulary.Build(["YES NO", "نعم لا", "GO 42"]);
        Assert.That(v.Tokens[0], Is.EqualTo(CharacterVocabulary.BlankSymbol));
        Assert.That(v.Tokens[1], Is.EqualTo("|"));
        Assert.That(v.Tokens.Skip(2), Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
        Assert.That(v.Tokens, Is.SupersetOf(new[] { "Y", "E", "S", "N", "O", "G", "4", "2", "ن", "ع", "م", "ل", "ا" }));
        Assert.That(v.Count, Is.EqualTo(2 + 13));
        var ids = v.Encode("NO نعم");
        Assert.That(ids, Has.Length.EqualTo(2 + 1 + 3 + 1));
        Assert.That(ids[2], Is.EqualTo(v.WordBoundaryId));
        Assert.That(ids[^1], Is.EqualTo(v.WordBoundaryId), "every word is followed by |, as in .ltr files");
        Assert.That(v.Decode(ids), Is.EqualTo("NO نعم"));
        Assert.That(v.Decode([0, .. ids, 0]), Is.EqualTo("NO نعم"), "blanks are dropped");
        // Encoding normalises as the vocabulary was built: a diacritic in a transcript is not an unknown character.
        Assert.That(v.Decode(v.Encode("نَعَم")), Is.EqualTo("نعم"));
    }

    [Test]
    public void UnknownCharactersAreNamedErrorsOrMapToUnk()
    {
        var strict = CharacterVocabulary.Build(["ABC"]);
        var ex = Assert.Throws<HArnessDataException>(() => strict.Encode("ABX", "train.wrd:7"));
        Assert.That(ex!.Message, Does.Contain("'X' (U+0058)").And.Contain("train.wrd:7"));
        var lenient = CharacterVocabulary.Build(["ABC"], new CharacterVocabularyOptions { MapUnknownCharacters = true });
        Assert.That(lenient.Tokens[2], Is.EqualTo(CharacterVocabulary.UnknownSymbol));
        Assert.That(lenient.Encode("AX"), Is.EqualTo(new[] { lenient.IdOf("A"), lenient.UnknownId, 1 }));
        Assert.That(() => strict.Encode("  ", "u1"), Throws.InstanceOf<HArnessDataException>().With.Message.Contains("empty"));
    }

    [Test]
    public void SavesAndLoadsAndBuildsFromTheDemoTranscripts()
    {
        var demo = Path.Combine(TestPaths.RepoRoot, "data", "demo");
        var manifest = Manifest.Load(Path.Combine(demo, "train.tsv"));
        var words = LabelFile.LoadBeside(manifest, "wrd");
        var v = CharacterVocabulary.Build(words);
        // Every .ltr line encodes to the same ids as its .wrd line.
        var letters = LabelFile.LoadBeside(manifest, "ltr");
        for (var i = 0; i < manifest.Count; i++)
            Assert.That(v.Encode(letters.Text(i)), Is.EqualTo(v.Encode(words[i], $"{words.Path}:{i + 1}")));
        Assert.That(v.Tokens.Any(t => t[0] is >= '\u0600' and <= '\u06FF'), Is.True, "Arabic letters");
        Assert.That(v.Tokens.Any(t => t[0] is >= 'A' and <= 'Z'), Is.True, "Latin letters");
        using var dir = TestPaths.NewTempDirectory();
        v.Save(dir.File("vocab.txt"));
        var back = CharacterVocabulary.Load(dir.File("vocab.txt"));
        Assert.That(back.Tokens, Is.EqualTo(v.Tokens));
        File.WriteAllText(dir.File("bad.txt"), "#harness-vocab\n<blank>\nA\n");
        Assert.That(() => CharacterVocabulary.Load(dir.File("bad.txt")), Throws.InstanceOf<HArnessFormatException>().With.Message.Contains("line 3"));
    }

    [Test]
    public void EmptyTranscriptInALabelFileNamesFileAndLine()
    {
        using var dir = TestPaths.NewTempDirectory();
        File.WriteAllText(dir.File("x.wrd"), "HELLO\n\nWORLD\n");
        var words = LabelFile.Load(dir.File("x.wrd"));
        var ex = Assert.Throws<HArnessDataException>(() => CharacterVocabulary.Build(words));
        Assert.That(ex!.Message, Does.Contain("x.wrd' line 2"));
    }
}

public sealed class CtcDecodingTests
{
    private static float[] Log(double[,] p)
    {
        int t = p.GetLength(0), v = p.GetLength(1);
        var a = new float[t * v];
        for (var i = 0; i < t; i++) for (var j = 0; j < v; j++) a[i * v + j] = (float)Math.Log(p[i, j]);
        return a;
    }

    [Test]
    public void GreedyCollapsesRepeatsAndDropsBlanks()
    {
        // arg-max path: 1 1 0 1 2 2 0 → "1 1 2"
        var p = new double[7, 3];
        int[] path = [1, 1, 0, 1, 2, 2, 0];
        for (var t = 0; t < 7; t++) for (var v = 0; v < 3; v++) p[t, v] = v == path[t] ? 0.8 : 0.1;
        var h = CtcGreedyDecoder.Decode(Log(p), 3);
        Assert.That(h.Tokens, Is.EqualTo(new[] { 1, 1, 2 }));
        Assert.That(h.LogProbability, Is.EqualTo(7 * Math.Log(0.8)).Within(1e-5));
        Assert.That(CtcGreedyDecoder.Decode(Log(new double[,] { { 0.9, 0.1 }, { 0.9, 0.1 } }), 2).Tokens, Is.Empty);
        Assert.That(() => CtcGreedyDecoder.Decode(new float[5], 3), Throws.ArgumentException.With.Message.Contains("not a multiple of 3"));
    }

    [Test]
    public void GreedyOnATensorBatchHonoursLengths()
    {
        HArnESS.Runtime.HArnessRuntime.EnsureInitialized();
        using var lp = TorchSharp.torch.tensor(new float[] { 0, -5, -5, -5, 0, -5, -5, -5, 0, /* row 2 */ -5, 0, -5, -5, 0, -5, -5, -5, 0 }, [2, 3, 3]);
        using var lens = TorchSharp.torch.tensor(new long[] { 3, 2 });
        var hs = CtcGreedyDecoder.Decode(lp, lens);
        Assert.That(hs[0].Tokens, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(hs[1].Tokens, Is.EqualTo(new[] { 1 }), "the third frame of row 2 is padding");
    }

    /// <summary>Every alignment of T frames over V tokens, collapsed; probabilities summed per label sequence.</summary>
    private static Dictionary<string, double> BruteForce(double[,] p)
    {
        int t = p.GetLength(0), v = p.GetLength(1);
        var totals = new Dictionary<string, double>();
        var path = new int[t];
        var n = (long)Math.Pow(v, t);
        for (long k = 0; k < n; k++)
        {
            var x = k;
            double prob = 1;
            for (var i = 0; i < t; i++) { path[i] = (int)(x % v); x /= v; prob *= p[i, path[i]]; }
            var labels = new List<int>();
            for (var i = 0; i < t; i++)
                if (path[i] != 0 && (i == 0 || path[i] != path[i - 1])) labels.Add(path[i]);
            var key = string.Join(",", labels);
            totals[key] = totals.GetValueOrDefault(key) + prob;
        }
        return totals;
    }

    [TestCase(4, 3, 1)]
    [TestCase(5, 3, 2)]
    [TestCase(5, 4, 3)]
    [TestCase(6, 3, 4)]
    public void BeamSearchMatchesBruteForceEnumeration(int frames, int vocab, int seed)
    {
        var rng = new Random(seed);
        var p = new double[frames, vocab];
        for (var t = 0; t < frames; t++)
        {
            double s = 0;
            for (var v = 0; v < vocab; v++) s += p[t, v] = rng.NextDouble() + 0.05;
            for (var v = 0; v < vocab; v++) p[t, v] /= s;
        }
        var exact = BruteForce(p).OrderByDescending(kv => kv.Value).ToArray();
        // A beam wide enough for every prefix is exact: same n-best sequences with the same total probabilities.
        var full = CtcPrefixBeamSearch.Decode(Log(p), vocab, new CtcBeamSearchOptions { BeamWidth = 100_000, NBest = 5 });
        for (var i = 0; i < 5; i++)
        {
            Assert.That(string.Join(",", full[i].Tokens), Is.EqualTo(exact[i].Key), $"hypothesis {i}");
            Assert.That(Math.Exp(full[i].LogProbability), Is.EqualTo(exact[i].Value).Within(1e-6), $"probability {i}");
        }
        // A narrow beam still scores what it finds exactly (its prefixes' probabilities are not approximations
        // unless a prefix was pruned on the way); the best it returns is never better than the true best.
        var narrow = CtcPrefixBeamSearch.Decode(Log(p), vocab, new CtcBeamSearchOptions { BeamWidth = 3 });
        Assert.That(Math.Exp(narrow[0].LogProbability), Is.LessThanOrEqualTo(exact[0].Value + 1e-6));
    }

    [Test]
    public void BeamSearchBeatsGreedyWhereAlignmentsMerge()
    {
        // Classic example: the best single path is blank-blank, but "a" collects more mass over its alignments.
        var lp = Log(new double[,] { { 0.55, 0.45, 0.0001 }, { 0.55, 0.45, 0.0001 } });
        Assert.That(CtcGreedyDecoder.Decode(lp, 3).Tokens, Is.Empty);
        // P("") = .55² = .3025 ; P("1") = .45² + 2·.55·.45 = .6975
        var best = CtcPrefixBeamSearch.Decode(lp, 3)[0];
        Assert.That(best.Tokens, Is.EqualTo(new[] { 1 }));
        Assert.That(Math.Exp(best.LogProbability), Is.EqualTo(0.45 * 0.45 + 2 * 0.55 * 0.45).Within(1e-3));
        Assert.Throws<HArnessValidationException>(() => CtcPrefixBeamSearch.Decode(lp, 3, new CtcBeamSearchOptions { BeamWidth = 0 }));
    }
}
