using HArnESS.Downstream.Evaluation;
using HArnESS.Downstream.Metrics;
using NUnit.Framework;

namespace HArnESS.Tests.Downstream;

/// <summary><see cref="DownstreamChance"/>: constant-answer scores measured from a corpus's label files.</summary>
public sealed class DownstreamChanceTests
{
    private static void Write(string dir, string file, params string[] lines) => File.WriteAllLines(Path.Combine(dir, file), lines);

    private static void WriteCorpus(string dir)
    {
        Write(dir, "train.emo", "angry", "angry", "happy", "sad");
        Write(dir, "test.emo", "angry", "angry", "angry", "happy");
        Write(dir, "train.dia", "ar", "en");
        Write(dir, "test.dia", "ar", "en");
        Write(dir, "kws_train.kws", "yes", "no", "up", "down");
        Write(dir, "kws_test.kws", "yes", "no", "up", "yes");
        Write(dir, "train.wrd", "AB", "AB", "CD");
        Write(dir, "test.wrd", "AB", "AC");
    }

    [Test]
    public void ClassificationChanceIsTheLargerOfOneOverClassesAndTheTestMajority()
    {
        using var dir = TestPaths.NewTempDirectory();
        WriteCorpus(dir.Path);
        var c = DownstreamChance.Measure(dir.Path);
        Assert.Multiple(() =>
        {
            Assert.That(c.SerAccuracy, Is.EqualTo(75).Within(1e-9), "3 of 4 test utterances are angry");
            Assert.That(c.SerUa, Is.EqualTo(100.0 / 3).Within(1e-9), "a constant answer recalls one class of three");
            Assert.That(c.DidAccuracy, Is.EqualTo(50).Within(1e-9), "balanced: 1 / 2");
            Assert.That(c.KwsAccuracy, Is.EqualTo(50).Within(1e-9), "2 of 4 are 'yes', above 1 / 4");
            Assert.That(c.SvEer, Is.EqualTo(50));
            Assert.That(c.AsrWer, Is.EqualTo(100));
        });
    }

    [Test]
    public void AsrChanceIsTheBestConstantTranscript()
    {
        using var dir = TestPaths.NewTempDirectory();
        WriteCorpus(dir.Path);
        // "AB" (the most frequent transcript) gets AB right and one substitution in AC: 1 error in 4 characters;
        // "A" (the most frequent character, A/B tie broken by order) deletes one of each: 2 in 4; the empty output 4 in 4.
        Assert.That(DownstreamChance.Measure(dir.Path).AsrCer, Is.EqualTo(25).Within(1e-9));
    }

    [Test]
    public void OnTheDemoCorpusTheBestConstantTranscriptStillMissesMostCharacters()
    {
        var demo = Path.Combine(TestPaths.RepoRoot, "data", "demo");
        var c = DownstreamChance.Measure(demo);
        var test = File.ReadAllLines(Path.Combine(demo, "test.wrd"));
        Assert.That(ErrorRates.Character(test, test.Select(_ => "").ToArray()).Percent, Is.EqualTo(100));
        Assert.That(c.AsrCer, Is.LessThanOrEqualTo(100).And.GreaterThan(90));
        Assert.That(c.DidAccuracy, Is.GreaterThan(25), "the DID test split's majority dialect (ar) is above 1 / 4");
    }

    [Test]
    public void AMissingLabelFileIsNamed()
    {
        using var dir = TestPaths.NewTempDirectory();
        WriteCorpus(dir.Path);
        File.Delete(Path.Combine(dir.Path, "test.dia"));
        var e = Assert.Throws<HArnessDataException>(() => DownstreamChance.Measure(dir.Path));
        Assert.That(e!.Message, Does.Contain("test.dia"));
    }
}
