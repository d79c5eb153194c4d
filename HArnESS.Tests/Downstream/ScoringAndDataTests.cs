using HArnESS.Audio;
using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Heads;
using NUnit.Framework;

namespace HArnESS.Tests.Downstream;

public sealed class CosineScorerTests
{
    [Test]
    public void ScoresTrialsAndNormalisesAgainstACohort()
    {
        var emb = new Dictionary<string, float[]>
        {
            ["a"] = [1, 0, 0], ["a2"] = [2, 0.1f, 0], ["b"] = [0, 1, 0], ["c"] = [0, 0, 1],
        };
        var trials = TrialList.FromTrials([new Trial(true, "a", "a2"), new Trial(false, "a", "b"), new Trial(false, "b", "c")]);
        var raw = CosineScorer.Score(emb, trials);
        Assert.That(raw[0], Is.EqualTo(2 / Math.Sqrt(4.01)).Within(1e-6));
        Assert.That(raw[1], Is.EqualTo(0).Within(1e-9));
        Assert.That(CosineScorer.Evaluate(emb, trials).Eer, Is.EqualTo(0));

        float[][] cohort = [[1, 1, 0], [0, 1, 1], [1, 0, 1], [-1, 0, 0]];
        var norm = CosineScorer.Score(emb, trials, new CosineScoringOptions { Normalization = ScoreNormalization.SNorm }, cohort);
        static (double, double) Stats(float[] e, float[][] c)
        {
            var s = c.Select(x => CosineScorer.Cosine(e, x)).ToArray();
            var m = s.Average();
            return (m, Math.Sqrt(s.Sum(v => (v - m) * (v - m)) / s.Length));
        }
        var (ma, sa) = Stats(emb["a"], cohort);
        var (mb, sb) = Stats(emb["b"], cohort);
        Assert.That(norm[1], Is.EqualTo(0.5 * ((raw[1] - ma) / sa + (raw[1] - mb) / sb)).Within(1e-9));
        // Adaptive s-norm with a top-K as large as the cohort is plain s-norm.
        var adaptive = CosineScorer.Score(emb, trials, new CosineScoringOptions { Normalization = ScoreNormalization.AdaptiveSNorm, CohortTopK = 4 }, cohort);
        Assert.That(adaptive, Is.EqualTo(norm).Within(1e-12));
        var top2 = CosineScorer.Score(emb, trials, new CosineScoringOptions { Normalization = ScoreNormalization.AdaptiveSNorm, CohortTopK = 2 }, cohort);
        Assert.That(top2[1], Is.Not.EqualTo(norm[1]).Within(1e-6));
    }

    [Test]
    public void MissingEmbeddingsAndCohortsAreNamed()
    {
        var emb = new Dictionary<string, float[]> { ["a"] = [1, 0] };
        var trials = TrialList.FromTrials([new Trial(true, "a", "zz")]);
        Assert.That(() => CosineScorer.Score(emb, trials), Throws.InstanceOf<HArnessDataException>().With.Message.Contains("'zz'").And.Message.Contains("Trial 1"));
        Assert.That(() => CosineScorer.Score(emb, trials, new CosineScoringOptions { Normalization = ScoreNormalization.SNorm }),
            Throws.InstanceOf<HArnessConfigException>().With.Message.Contains("cohort"));
    }
}

public sealed class DownstreamDataTests
{
    private static string Demo(string name) => Path.Combine(TestPaths.RepoRoot, "data", "demo", name);

    [Test]
    public void DemoLabelFilesMapThroughTheTrainingLabelSet()
    {
        var train = Manifest.Load(Demo("train.tsv"));
        var emo = LabelSet.FromLabelFile(LabelFile.LoadBeside(train, "emo"));
        Assert.That(emo.Classes, Is.EqualTo(new[] { "angry", "happy", "neutral", "sad" }));
        var test = Manifest.Load(Demo("test.tsv"));
        var ids = emo.Map(LabelFile.LoadBeside(test, "emo"));
        Assert.That(ids, Has.Length.EqualTo(test.Count));
        var dia = LabelSet.FromLabelFile(LabelFile.LoadBeside(train, "dia"));
        Assert.That(dia.Classes, Is.EqualTo(new[] { "ar", "en-gb", "en-sc", "en-us" }));
        var kws = LabelSet.FromLabelFile(LabelFile.LoadBeside(Manifest.Load(Demo("kws_train.tsv")), "kws"));
        Assert.That(kws.Count, Is.EqualTo(10));
    }

    [Test]
    public void ALabelOutsideTheSetNamesFileAndLine()
    {
        using var dir = TestPaths.NewTempDirectory();
        File.WriteAllText(dir.File("valid.emo"), "happy\nsad\nbored\n");
        var set = new LabelSet(["happy", "sad"]);
        var ex = Assert.Throws<HArnessDataException>(() => set.Map(LabelFile.Load(dir.File("valid.emo"))));
        Assert.That(ex!.Message, Does.Contain("valid.emo' line 3").And.Contain("'bored'"));
        Assert.That(ex.FilePath, Does.EndWith("valid.emo"));
    }

    [Test]
    public void DemoTrialsLoadAgainstTheTestManifest()
    {
        var test = Manifest.Load(Demo("test.tsv"));
        var trials = TrialList.Load(Demo("sv_trials.txt"), test);
        Assert.That(trials.Trials, Has.Count.EqualTo(231));
        Assert.That(trials.Trials.Count(t => t.IsTarget), Is.EqualTo(14));
        Assert.That(trials.Utterances, Has.Count.EqualTo(test.Count));
        var train = Manifest.Load(Demo("train.tsv"));
        var ex = Assert.Throws<HArnessDataException>(() => TrialList.Load(Demo("sv_trials.txt"), train));
        Assert.That(ex!.Message, Does.Contain("line 1").And.Contain("is not in manifest"));
    }

    [Test]
    public void MalformedTrialAndLabelledListsAreFormatErrors()
    {
        using var dir = TestPaths.NewTempDirectory();
        File.WriteAllText(dir.File("t.txt"), "1 a.wav b.wav\n2 a.wav c.wav\n");
        Assert.That(() => TrialList.Load(dir.File("t.txt")), Throws.InstanceOf<HArnessFormatException>().With.Message.Contains("line 2"));
        File.WriteAllText(dir.File("l.tsv"), "a.wav\tyes\nb.wav yes\n");
        Assert.That(() => LabelledList.Load(dir.File("l.tsv")), Throws.InstanceOf<HArnessFormatException>().With.Message.Contains("line 2"));
        File.WriteAllText(dir.File("e.txt"), "\n");
        Assert.That(() => TrialList.Load(dir.File("e.txt")), Throws.InstanceOf<HArnessDataException>().With.Message.Contains("no trial"));
    }

    [Test]
    public void LabelledListBuildsAManifestAndChecksLabels()
    {
        using var dir = TestPaths.NewTempDirectory();
        Directory.CreateDirectory(dir.File("w"));
        WavWriter.Write(dir.File("w/a.wav"), new AudioClip(new float[1600], 16000));
        WavWriter.Write(dir.File("w/b.wav"), new AudioClip(new float[800], 16000));
        File.WriteAllText(dir.File("train.tsv"), "w/a.wav\tyes\nw/b.wav\tno\n");
        var list = LabelledList.Load(dir.File("train.tsv"));
        var set = list.LabelSet();
        Assert.That(set.Classes, Is.EqualTo(new[] { "no", "yes" }));
        Assert.That(list.ClassIds(set), Is.EqualTo(new[] { 1, 0 }));
        var m = list.ToManifest();
        Assert.That(m.Entries.Select(e => e.NumSamples), Is.EqualTo(new long[] { 1600, 800 }));
        File.WriteAllText(dir.File("valid.tsv"), "w/a.wav\tyes\nw/b.wav\tmaybe\n");
        Assert.That(() => LabelledList.Load(dir.File("valid.tsv"), set), Throws.InstanceOf<HArnessDataException>().With.Message.Contains("line 2").And.Message.Contains("'maybe'"));
        File.WriteAllText(dir.File("missing.tsv"), "w/zz.wav\tyes\n");
        Assert.That(() => LabelledList.Load(dir.File("missing.tsv")).ToManifest(), Throws.InstanceOf<HArnessDataException>().With.Message.Contains("line 1"));
    }

    private static void MakeSpeechCommands(string root)
    {
        // 3 keywords + 2 other words, 10 files each; 2 of each word in validation, 2 in test; 2 s and 3 s of noise.
        foreach (var w in new[] { "yes", "no", "up", "cat", "dog" })
        {
            Directory.CreateDirectory(Path.Combine(root, w));
            for (var i = 0; i < 10; i++) WavWriter.Write(Path.Combine(root, w, $"spk{i}_nohash_0.wav"), new AudioClip(new float[400 + i], 16000));
        }
        Directory.CreateDirectory(Path.Combine(root, SpeechCommandsCorpus.BackgroundNoiseFolder));
        WavWriter.Write(Path.Combine(root, SpeechCommandsCorpus.BackgroundNoiseFolder, "pink.wav"), new AudioClip(new float[32000], 16000));
        WavWriter.Write(Path.Combine(root, SpeechCommandsCorpus.BackgroundNoiseFolder, "white.wav"), new AudioClip(new float[48000], 16000));
        string[] words = ["yes", "no", "up", "cat", "dog"];
        File.WriteAllLines(Path.Combine(root, "validation_list.txt"), words.SelectMany(w => new[] { $"{w}/spk0_nohash_0.wav", $"{w}/spk1_nohash_0.wav" }));
        File.WriteAllLines(Path.Combine(root, "testing_list.txt"), words.SelectMany(w => new[] { $"{w}/spk2_nohash_0.wav", $"{w}/spk3_nohash_0.wav" }));
    }

    [Test]
    public void SpeechCommandsLayoutGivesKeywordsUnknownAndSilence()
    {
        using var dir = TestPaths.NewTempDirectory();
        MakeSpeechCommands(dir.Path);
        var options = new SpeechCommandsOptions { Keywords = ["yes", "no", "up"], UnknownPercentage = 50, SilencePercentage = 20, ClipSamples = 16000 };
        var corpus = SpeechCommandsCorpus.Load(dir.Path, options);
        Assert.That(corpus.Labels.Classes, Is.EqualTo(new[] { "_silence_", "_unknown_", "yes", "no", "up" }), "TF order");
        // Train: 6 files per word; 18 keyword items, ceil(18·50 %) = 9 of the 12 unknown, ceil(18·20 %) = 4 silence clips.
        Assert.That(corpus.Train.Count(i => i.Label is "yes" or "no" or "up"), Is.EqualTo(18));
        Assert.That(corpus.Train.Count(i => i.Label == "_unknown_"), Is.EqualTo(9));
        Assert.That(corpus.Train.Where(i => i.Label == "_unknown_").Select(i => i.Word).Distinct(), Is.SubsetOf(new[] { "cat", "dog" }));
        var silence = corpus.Train.Where(i => i.Label == "_silence_").ToArray();
        Assert.That(silence, Has.Length.EqualTo(4));
        foreach (var s in silence)
        {
            var frames = WavReader.ReadInfo(Path.Combine(corpus.Root, s.RelativePath)).Frames;
            Assert.That(s.NumSamples, Is.EqualTo(16000));
            Assert.That(s.OffsetSamples + s.NumSamples, Is.LessThanOrEqualTo(frames));
        }
        Assert.That(corpus.Validation.Count(i => i.Label is "yes" or "no" or "up"), Is.EqualTo(6));
        Assert.That(corpus.Test.Where(i => i.Word != SpeechCommandsCorpus.BackgroundNoiseFolder).Select(i => i.RelativePath),
            Has.All.Match("spk[23]_nohash_0.wav$"));
        Assert.That(corpus.Train.Select(i => i.RelativePath).Intersect(corpus.Test.Select(i => i.RelativePath)).Where(p => !p.StartsWith('_')), Is.Empty);
        // Same options, same corpus (deterministic draw).
        var again = SpeechCommandsCorpus.Load(dir.Path, options);
        Assert.That(again.Train, Is.EqualTo(corpus.Train));
        // Exported as manifests + label files, the corpus loads like the demo corpus (silence clips cut into WAVs).
        using var outDir = TestPaths.NewTempDirectory();
        var (train, _, test) = corpus.Export(outDir.Path);
        var data = AudioDataset.Load(train, null, "kws");
        Assert.That(data.Count, Is.EqualTo(corpus.Train.Count));
        Assert.That(data.Labels["kws"].Lines, Is.EqualTo(corpus.Train.Select(i => i.Label)));
        var silenceIndex = corpus.Train.ToList().FindIndex(i => i.Label == "_silence_");
        Assert.That(data.Read(silenceIndex).Samples, Has.Length.EqualTo(16000));
        Assert.That(AudioDataset.Load(test, null, "kws").Count, Is.EqualTo(corpus.Test.Count));
        // Every word its own class: no unknown class.
        var all = SpeechCommandsCorpus.Load(dir.Path, new SpeechCommandsOptions { Keywords = null, SilencePercentage = 0 });
        Assert.That(all.Labels.Classes, Is.EqualTo(new[] { "cat", "dog", "no", "up", "yes" }));
    }

    [Test]
    public void SpeechCommandsErrorsNameTheListLine()
    {
        using var dir = TestPaths.NewTempDirectory();
        MakeSpeechCommands(dir.Path);
        File.AppendAllText(Path.Combine(dir.Path, "testing_list.txt"), "yes/nothere.wav\n");
        var ex = Assert.Throws<HArnessDataException>(() => SpeechCommandsCorpus.Load(dir.Path, new SpeechCommandsOptions { Keywords = ["yes"] }));
        Assert.That(ex!.Message, Does.Contain("testing_list.txt' line 11").And.Contain("yes/nothere.wav"));
        Assert.That(() => SpeechCommandsCorpus.Load(dir.Path, new SpeechCommandsOptions { Keywords = ["seven"] }),
            Throws.InstanceOf<HArnessDataException>().With.Message.Contains("'seven' has no folder"));
    }
}
