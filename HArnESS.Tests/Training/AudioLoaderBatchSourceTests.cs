using HArnESS.Data;
using HArnESS.Training;
using NUnit.Framework;

namespace HArnESS.Tests.Training;

public sealed class AudioLoaderBatchSourceTests
{
    [Test]
    public void StartingMidEpochYieldsTheRemainingBatchesWithoutReadingTheSkippedAudio()
    {
        var tsv = Path.Combine(TestPaths.RepoRoot, "data", "demo", "valid.tsv");
        var options = new AudioLoaderOptions { BatchSize = 4, MaxSampleSize = 8000, Seed = 5 };
        var full = new AudioLoaderBatchSource(new AudioLoader(AudioDataset.Load(tsv), options));
        var n = full.CountBatches(1, 0);
        Assert.That(n, Is.EqualTo(6), "23 utterances in batches of 4");
        var all = full.Read(1, 0, 0).Select(b => { using (b) return (b.Indices.ToArray(), b.Offsets.ToArray()); }).ToArray();

        var dataset = AudioDataset.Load(tsv);
        var resumed = new AudioLoaderBatchSource(new AudioLoader(dataset, options));
        var rest = resumed.Read(1, 4, 0).Select(b => { using (b) return (b.Indices.ToArray(), b.Offsets.ToArray()); }).ToArray();
        Assert.That(rest.Length, Is.EqualTo(2));
        Assert.That(rest.Select(r => r.Item1), Is.EqualTo(all[4..].Select(r => r.Item1)));
        Assert.That(rest.Select(r => r.Item2), Is.EqualTo(all[4..].Select(r => r.Item2)), "same random crops");
        Assert.That(dataset.ItemsRead, Is.EqualTo(rest.Sum(r => r.Item1.Length)), "only the remaining batches' audio was read");
        Assert.That(full.Signature, Does.Contain("valid.tsv").And.Contain("entries=23"));
    }
}
