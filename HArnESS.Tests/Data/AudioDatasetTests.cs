using HArnESS.Audio;
using HArnESS.Data;
using NUnit.Framework;

namespace HArnESS.Tests.Data;

[TestFixture]
public sealed class AudioDatasetTests
{
    [Test]
    public void Read_ReturnsTheFileSamples_WholeOrARange()
    {
        using var corpus = new TempCorpus([400, 250]);
        var ds = new AudioDataset(Manifest.Load(corpus.TsvPath));
        var whole = ds.Read(1);
        Assert.That(whole.Samples, Is.EqualTo(TempCorpus.Samples(1, 250)));
        Assert.That(whole.Offset, Is.EqualTo(0));
        Assert.That(whole.Path, Is.EqualTo(Path.Combine(corpus.Dir, "wav", "utt0001.wav")));

        var part = ds.Read(0, start: 100, count: 50);
        Assert.That(part.Samples, Is.EqualTo(TempCorpus.Samples(0, 150).Skip(100).ToArray()));
        Assert.That(part.Offset, Is.EqualTo(100));
        Assert.That(ds.ItemsRead, Is.EqualTo(2));
    }

    [Test]
    public void Read_OtherSampleRate_IsAnErrorNamingTheFile_UnlessResampling()
    {
        using var corpus = new TempCorpus([800], sampleRate: 8000);
        var ds = new AudioDataset(Manifest.Load(corpus.TsvPath));
        var ex = Assert.Throws<HArnessDataException>(() => ds.Read(0))!;
        Assert.That(ex.FilePath, Is.EqualTo(ds.PathOf(0)));
        Assert.That(ex.Message, Does.Contain("8000 Hz; expected 16000 Hz"));
        Assert.That(ex.Message, Does.Contain("line 2 of"));

        var resampling = new AudioDataset(ds.Manifest, new AudioDatasetOptions { Resample = true });
        Assert.That(resampling.Read(0).Samples, Has.Length.EqualTo(1600));
    }

    [Test]
    public void Read_StaleManifestLength_IsAnErrorNamingTheFile()
    {
        using var corpus = new TempCorpus([300]);
        var stale = new Manifest(corpus.Dir, [new ManifestEntry("wav/utt0000.wav", 301)]);
        var ex = Assert.Throws<HArnessDataException>(() => new AudioDataset(stale).Read(0))!;
        Assert.That(ex.Message, Does.Contain("has 300 samples but the manifest says 301"));
        Assert.That(new AudioDataset(stale, new AudioDatasetOptions { CheckLength = false }).Read(0).Samples, Has.Length.EqualTo(300));
    }

    [Test]
    public void Read_MissingOrCorruptFile_IsAnErrorNamingIt()
    {
        using var corpus = new TempCorpus([100, 100]);
        File.Delete(corpus.Manifest.GetFullPath(0));
        File.WriteAllText(corpus.Manifest.GetFullPath(1), "RIFF garbage");
        var ds = new AudioDataset(Manifest.Load(corpus.TsvPath));
        var missing = Assert.Throws<HArnessDataException>(() => ds.Read(0))!;
        Assert.That(missing.FilePath, Is.EqualTo(ds.PathOf(0)));
        Assert.That(missing.Message, Does.Contain("does not exist"));
        var corrupt = Assert.Throws<HArnessDataException>(() => ds.Read(1))!;
        Assert.That(corrupt.FilePath, Is.EqualTo(ds.PathOf(1)));
        Assert.That(corrupt.Message, Does.Contain("is not a readable WAV file"));
    }

    [Test]
    public void Read_Stereo_IsDownmixed_OrRejected()
    {
        using var corpus = new TempCorpus([]);
        var path = Path.Combine(corpus.Dir, "st.wav");
        WavWriter.Write(path, new AudioClip([0.5f, 0.25f, -0.5f, 0f], 16000, channels: 2));
        var m = new Manifest(corpus.Dir, [new ManifestEntry("st.wav", 2)]);
        Assert.That(new AudioDataset(m).Read(0).Samples, Is.EqualTo(new[] { 0.375f, -0.25f }));
        var ex = Assert.Throws<HArnessDataException>(() => new AudioDataset(m, new AudioDatasetOptions { DownmixToMono = false }).Read(0))!;
        Assert.That(ex.Message, Does.Contain("has 2 channels"));
    }

    [Test]
    public void Normalize_GivesZeroMeanUnitVariance()
    {
        using var corpus = new TempCorpus([1000]);
        var x = new AudioDataset(corpus.Manifest, new AudioDatasetOptions { Normalize = true }).Read(0).Samples;
        var mean = x.Average();
        var variance = x.Select(v => (v - mean) * (v - mean)).Average();
        Assert.That(mean, Is.EqualTo(0).Within(1e-5));
        Assert.That(variance, Is.EqualTo(1).Within(1e-3));
    }

    [Test]
    public void Labels_MustAlignWithTheManifest()
    {
        using var corpus = new TempCorpus([10, 20]);
        corpus.WriteLabels("emo", ["sad", "happy"]);
        corpus.WriteLabels("spk", ["a"]);
        var ds = AudioDataset.Load(corpus.TsvPath, null, "emo");
        Assert.That(ds.Labels["emo"].Lines, Is.EqualTo(new[] { "sad", "happy" }));
        Assert.Throws<HArnessDataException>(() => AudioDataset.Load(corpus.TsvPath, null, "spk"));
    }
}
