using HArnESS.Audio;
using HArnESS.Data;
using NUnit.Framework;

namespace HArnESS.Tests.Data;

/// <summary>The checked-in demo corpus (<c>data/demo/</c>, made by <c>scripts/make_demo_corpus.sh</c>) is consistent.</summary>
[TestFixture]
public sealed class DemoCorpusTests
{
    private static readonly string[] Splits = ["train", "valid", "test"];
    private static readonly string[] LabelSets = ["ltr", "wrd", "emo", "dia", "spk"];

    private static string DemoDir()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HArnESS.sln")))
                return Path.Combine(dir.FullName, "data", "demo");
        }
        throw new DirectoryNotFoundException("Repository root (HArnESS.sln) not found above the test directory.");
    }

    [TestCaseSource(nameof(Splits))]
    public void EveryListedFileExists_WithTheListedLength_16kHzMonoPcm16(string split)
    {
        var manifest = Manifest.Load(Path.Combine(DemoDir(), split + ".tsv"));
        Assert.That(manifest.Root, Is.EqualTo(DemoDir()));
        Assert.That(manifest.Count, Is.GreaterThanOrEqualTo(15));
        for (var i = 0; i < manifest.Count; i++)
        {
            var info = WavReader.ReadInfo(manifest.GetFullPath(i));
            Assert.That(info.SampleRate, Is.EqualTo(16_000), manifest.Entries[i].RelativePath);
            Assert.That(info.Channels, Is.EqualTo(1));
            Assert.That(info.Format, Is.EqualTo(WavSampleFormat.Pcm16));
            Assert.That(info.Frames, Is.EqualTo(manifest.Entries[i].NumSamples), manifest.Entries[i].RelativePath);
        }
    }

    [TestCaseSource(nameof(Splits))]
    public void LabelFiles_AreAligned_AndCoverEveryClass(string split)
    {
        var manifest = Manifest.Load(Path.Combine(DemoDir(), split + ".tsv"));
        var labels = LabelSets.ToDictionary(n => n, n => LabelFile.LoadBeside(manifest, n));
        for (var i = 0; i < manifest.Count; i++)
        {
            Assert.That(labels["ltr"][i], Is.EqualTo(LabelFile.ToLetters(labels["wrd"][i])));
            var name = Path.GetFileNameWithoutExtension(manifest.Entries[i].RelativePath);
            Assert.That(name, Does.StartWith(labels["spk"][i] + "_").And.EndWith("_" + labels["emo"][i]));
            Assert.That(labels["spk"][i], Does.StartWith(labels["dia"][i] + "-"));
            var arabic = labels["dia"][i] == "ar";
            Assert.That(labels["wrd"][i].Any(c => c is >= '\u0600' and <= '\u06FF'), Is.EqualTo(arabic), labels["wrd"][i]);
        }
        Assert.That(labels["emo"].Classes, Is.EqualTo(new[] { "angry", "happy", "neutral", "sad" }));
        Assert.That(labels["dia"].Classes, Is.EqualTo(new[] { "ar", "en-gb", "en-sc", "en-us" }));
        Assert.That(labels["spk"].Classes, Has.Count.EqualTo(10));
    }

    [TestCaseSource(nameof(Splits))]
    public void KeywordManifests_HoldOnlyKeywords_OfTheSplit(string split)
    {
        var dir = DemoDir();
        var all = Manifest.Load(Path.Combine(dir, split + ".tsv"));
        var kws = Manifest.Load(Path.Combine(dir, $"kws_{split}.tsv"));
        var labels = LabelFile.LoadBeside(kws, "kws");
        var words = LabelFile.LoadBeside(all, "wrd");
        var byPath = all.Entries.Select((e, i) => (e, i)).ToDictionary(p => p.e.RelativePath, p => p);
        Assert.That(kws.Count, Is.GreaterThan(5));
        for (var i = 0; i < kws.Count; i++)
        {
            var entry = kws.Entries[i];
            Assert.That(byPath.TryGetValue(entry.RelativePath, out var same), Is.True, entry.RelativePath);
            Assert.That(same.e, Is.EqualTo(entry));
            Assert.That(entry.RelativePath, Does.Contain("_kw"));
            Assert.That(words.Tokens(same.i), Has.Length.EqualTo(1));
            if (words[same.i].All(char.IsAsciiLetter))
                Assert.That(words[same.i], Is.EqualTo(labels[i].ToUpperInvariant()));
        }
        Assert.That(labels.Classes.Except(["yes", "no", "up", "down", "left", "right", "stop", "go", "on", "off"]), Is.Empty);
    }

    [Test]
    public void SpeakerTrials_PairTestFiles_LabelledBySpeaker()
    {
        var dir = DemoDir();
        var test = Manifest.Load(Path.Combine(dir, "test.tsv"));
        var spk = LabelFile.LoadBeside(test, "spk");
        var speakerOf = test.Entries.Select((e, i) => (e.RelativePath, spk[i])).ToDictionary(p => p.RelativePath, p => p.Item2);
        var trials = File.ReadAllLines(Path.Combine(dir, "sv_trials.txt"));
        Assert.That(trials, Has.Length.EqualTo(test.Count * (test.Count - 1) / 2));
        var targets = 0;
        foreach (var line in trials)
        {
            var f = line.Split(' ');
            Assert.That(f, Has.Length.EqualTo(3), line);
            Assert.That(File.Exists(Path.Combine(dir, f[1])) && File.Exists(Path.Combine(dir, f[2])), Is.True, line);
            var same = speakerOf[f[1]] == speakerOf[f[2]];
            Assert.That(f[0], Is.EqualTo(same ? "1" : "0"), line);
            if (same) targets++;
        }
        Assert.That(targets, Is.GreaterThanOrEqualTo(5));
    }

    [Test]
    public void Audio_IsSpeechNotSilence_AndBatchesWithItsLabels()
    {
        var ds = AudioDataset.Load(Path.Combine(DemoDir(), "train.tsv"), null, "emo", "dia");
        var loader = new AudioLoader(ds, new AudioLoaderOptions { BatchSize = 16, Seed = 3 });
        var rows = 0;
        foreach (var batch in loader)
        {
            using var _ = batch;
            using var classes = batch.ClassTargets("emo", ds.Labels["emo"].Classes);
            Assert.That(classes.data<long>().ToArray(), Is.All.InRange(0, 3));
            var t = (int)batch.Waveforms.shape[1];
            var wave = batch.Waveforms.data<float>().ToArray();
            for (var r = 0; r < batch.Count; r++)
            {
                var n = (int)batch.LengthsArray[r];
                var seconds = n / 16000.0;
                Assert.That(seconds, Is.InRange(0.2, 4.0));
                var row = wave.AsSpan(r * t, n);
                double sq = 0;
                var peak = 0f;
                foreach (var v in row)
                {
                    sq += v * v;
                    peak = Math.Max(peak, Math.Abs(v));
                }
                Assert.That(Math.Sqrt(sq / n), Is.GreaterThan(0.01), batch.Paths[r]);
                Assert.That(peak, Is.LessThan(0.999f), batch.Paths[r]);
            }
            rows += batch.Count;
        }
        Assert.That(rows, Is.EqualTo(ds.Count));
        Assert.That(loader.Dropped, Is.Empty);
    }

    [Test]
    public void Corpus_StaysUnderFiveMegabytes_WithAReadme()
    {
        var dir = DemoDir();
        var bytes = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.That(bytes, Is.LessThanOrEqualTo(5_000_000));
        Assert.That(File.ReadAllText(Path.Combine(dir, "README.md")), Does.Contain("scripts/make_demo_corpus.sh"));
    }
}
