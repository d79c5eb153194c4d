using HArnESS.Data;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Data;

[TestFixture]
public sealed class AudioLoaderTests
{
    // Lengths chosen so sorting matters: no two neighbours in file order are close.
    private static readonly int[] Lengths = [1200, 130, 900, 40, 1600, 700, 260, 1100, 55, 480, 1500, 333, 90, 1000, 620, 170, 1350, 410, 800, 25];

    private static AudioLoader Loader(TempCorpus corpus, AudioLoaderOptions options, AudioDatasetOptions? ds = null) =>
        new(new AudioDataset(Manifest.Load(corpus.TsvPath), ds), options);

    [TestCase(0)]
    [TestCase(2)]
    public void Batches_ArePaddedWithMaskAndLengths_MatchingTheSourceFiles(int prefetch)
    {
        using var corpus = new TempCorpus(Lengths);
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = 3, Prefetch = prefetch });
        var seen = new List<int>();
        foreach (var batch in loader)
        {
            using var scope = torch.NewDisposeScope();
            using var _ = batch;
            var b = batch.Count;
            var t = batch.LengthsArray.Max();
            Assert.That(batch.Waveforms.shape, Is.EqualTo(new[] { b, t }));
            Assert.That(batch.PaddingMask.shape, Is.EqualTo(new[] { b, t }));
            Assert.That(batch.Waveforms.dtype, Is.EqualTo(torch.ScalarType.Float32));
            Assert.That(batch.Lengths.dtype, Is.EqualTo(torch.ScalarType.Int64));
            Assert.That(batch.PaddingMask.dtype, Is.EqualTo(torch.ScalarType.Bool));
            var wave = batch.Waveforms.data<float>().ToArray();
            var mask = batch.PaddingMask.data<bool>().ToArray();
            var lengths = batch.Lengths.data<long>().ToArray();
            for (var r = 0; r < b; r++)
            {
                var index = batch.Indices[r];
                Assert.That(lengths[r], Is.EqualTo(Lengths[index]));
                Assert.That(batch.Paths[r], Is.EqualTo(corpus.Manifest.GetFullPath(index)));
                var expected = TempCorpus.Samples(index, Lengths[index]);
                for (var j = 0; j < t; j++)
                {
                    Assert.That(mask[r * t + j], Is.EqualTo(j >= lengths[r]));
                    Assert.That(wave[r * t + j], Is.EqualTo(j < lengths[r] ? expected[j] : 0f));
                }
            }
            seen.AddRange(batch.Indices);
        }
        Assert.That(seen, Is.EquivalentTo(Enumerable.Range(0, Lengths.Length)));
        Assert.That(loader.Dropped, Is.Empty);
        Assert.That(loader.LiveBatches, Is.Zero);
    }

    [Test]
    public void Bucketing_GroupsSimilarLengths_WithLessPadding()
    {
        using var corpus = new TempCorpus(Lengths);
        var bucketed = Loader(corpus, new AudioLoaderOptions { BatchSize = 4, Seed = 7 }).PlanBatches();
        var plain = Loader(corpus, new AudioLoaderOptions { BatchSize = 4, Seed = 7, BucketByLength = false }).PlanBatches();

        // One global bucket: the batches are consecutive runs of the sorted lengths, so their ranges do not overlap.
        var ranges = bucketed.Select(b => (Min: b.Min(i => Lengths[i]), Max: b.Max(i => Lengths[i]))).OrderBy(r => r.Min).ToArray();
        for (var k = 1; k < ranges.Length; k++) Assert.That(ranges[k].Min, Is.GreaterThanOrEqualTo(ranges[k - 1].Max));
        Assert.That(bucketed.SelectMany(b => b), Is.EquivalentTo(Enumerable.Range(0, Lengths.Length)));
        Assert.That(Padding(bucketed), Is.LessThan(Padding(plain)));

        // The batch order is shuffled, not ascending.
        Assert.That(ranges.Select(r => r.Min), Is.Not.EqualTo(bucketed.Select(b => b.Min(i => Lengths[i]))));

        // Buckets of 10: sorting happens inside each bucket only (each batch lies in one bucket of the shuffled order).
        var small = Loader(corpus, new AudioLoaderOptions { BatchSize = 5, BucketSize = 10, Shuffle = false }).PlanBatches();
        Assert.That(small.Select(b => b.Select(i => i / 10).Distinct().Count()), Is.All.EqualTo(1));
        Assert.That(small.Select(b => b.Select(i => Lengths[i])), Is.All.Ordered);
    }

    private static long Padding(IEnumerable<IReadOnlyList<int>> plan) =>
        plan.Sum(b => b.Count * (long)b.Max(i => Lengths[i]) - b.Sum(i => (long)Lengths[i]));

    [Test]
    public void MaxTokens_BoundsThePaddedBatch()
    {
        using var corpus = new TempCorpus(Lengths);
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = null, MaxTokens = 3000 });
        var plan = loader.PlanBatches();
        Assert.That(plan.Select(b => b.Count * b.Max(i => Lengths[i])), Is.All.LessThanOrEqualTo(3000));
        Assert.That(plan.SelectMany(b => b), Is.EquivalentTo(Enumerable.Range(0, Lengths.Length)));
        foreach (var batch in loader)
        {
            using var _ = batch;
            Assert.That(batch.Waveforms.numel(), Is.LessThanOrEqualTo(3000));
        }

        var tooLong = Loader(corpus, new AudioLoaderOptions { BatchSize = null, MaxTokens = 1000 });
        var ex = Assert.Throws<HArnessConfigException>(() => tooLong.PlanBatches())!;
        Assert.That(ex.OptionName, Is.EqualTo("MaxTokens"));
        Assert.That(ex.Message, Does.Contain("utt"));
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(4)]
    public void Shards_AreDisjoint_AndTogetherHoldEveryUtterance(int worldSize)
    {
        using var corpus = new TempCorpus(Lengths);
        foreach (var epoch in new[] { 0, 5 })
        {
            var shards = Enumerable.Range(0, worldSize).Select(rank =>
            {
                var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = 2, Rank = rank, WorldSize = worldSize, Seed = 3 });
                loader.SetEpoch(epoch);
                return loader.PlanBatches().SelectMany(b => b).ToArray();
            }).ToArray();
            var all = shards.SelectMany(s => s).ToArray();
            Assert.That(all, Is.Unique);
            Assert.That(all, Is.EquivalentTo(Enumerable.Range(0, Lengths.Length)));
            Assert.That(shards.Max(s => s.Length) - shards.Min(s => s.Length), Is.LessThanOrEqualTo(1));
        }
    }

    [Test]
    public void Shuffle_IsRepeatableForASeedAndEpoch_AndChangesWithTheEpoch()
    {
        using var corpus = new TempCorpus(Lengths);
        var options = new AudioLoaderOptions { BatchSize = 3, Seed = 11, BucketByLength = false };
        var a = Loader(corpus, options);
        var b = Loader(corpus, options);
        var epoch0 = Flat(a);
        Assert.That(Flat(b), Is.EqualTo(epoch0));
        Assert.That(epoch0, Is.Not.EqualTo(Enumerable.Range(0, Lengths.Length)));

        a.SetEpoch(1);
        var epoch1 = Flat(a);
        Assert.That(epoch1, Is.Not.EqualTo(epoch0));
        Assert.That(epoch1, Is.EquivalentTo(epoch0));
        a.SetEpoch(0);
        Assert.That(Flat(a), Is.EqualTo(epoch0));

        var otherSeed = Loader(corpus, options with { Seed = 12 });
        Assert.That(Flat(otherSeed), Is.Not.EqualTo(epoch0));
        var unshuffled = Loader(corpus, options with { Shuffle = false });
        Assert.That(Flat(unshuffled), Is.EqualTo(Enumerable.Range(0, Lengths.Length)));
    }

    private static int[] Flat(AudioLoader loader) => loader.PlanBatches().SelectMany(b => b).ToArray();

    [Test]
    public void RandomCrop_KeepsAWindowOfTheSource_RepeatablePerEpoch()
    {
        using var corpus = new TempCorpus(Lengths);
        var options = new AudioLoaderOptions { BatchSize = 4, MaxSampleSize = 300, Crop = CropMode.Random, Seed = 5 };
        var loader = Loader(corpus, options);
        Assert.That(loader.CroppedCount, Is.EqualTo(Lengths.Count(l => l > 300)));
        var offsets0 = Crops(loader);
        Assert.That(Crops(Loader(corpus, options)), Is.EqualTo(offsets0));
        Assert.That(offsets0.Values.Count(o => o > 0), Is.GreaterThan(Lengths.Count(l => l > 300) / 2));
        loader.SetEpoch(1);
        Assert.That(Crops(loader), Is.Not.EqualTo(offsets0));
    }

    [Test]
    public void FixedCrop_KeepsTheStart()
    {
        using var corpus = new TempCorpus(Lengths);
        var offsets = Crops(Loader(corpus, new AudioLoaderOptions { BatchSize = 4, MaxSampleSize = 300, Crop = CropMode.Start }));
        Assert.That(offsets.Values, Is.All.Zero);
    }

    // Reads every batch, checks each row against the source at its offset, and returns index → offset.
    private static Dictionary<int, long> Crops(AudioLoader loader)
    {
        var offsets = new Dictionary<int, long>();
        var max = loader.Options.MaxSampleSize!.Value;
        foreach (var batch in loader)
        {
            using var _ = batch;
            var t = (int)batch.Waveforms.shape[1];
            var wave = batch.Waveforms.data<float>().ToArray();
            for (var r = 0; r < batch.Count; r++)
            {
                var index = batch.Indices[r];
                var offset = batch.Offsets[r];
                var expectedLength = Math.Min(Lengths[index], max);
                Assert.That(batch.LengthsArray[r], Is.EqualTo(expectedLength));
                Assert.That(offset, Is.InRange(0, Lengths[index] - expectedLength));
                for (var j = 0; j < expectedLength; j += 37)
                    Assert.That(wave[r * t + j], Is.EqualTo(TempCorpus.Value(index, offset + j)));
                offsets[index] = offset;
            }
        }
        return offsets;
    }

    [Test]
    public void LengthFilters_DropAndReportTheirItems()
    {
        using var corpus = new TempCorpus(Lengths);
        var reported = new List<DroppedItem>();
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = 4, MinSampleSize = 100, MaxSampleSize = 1400, Crop = CropMode.Drop });
        loader.ItemDropped += (_, d) => reported.Add(d);
        var yielded = Flat(loader);
        var tooShort = Enumerable.Range(0, Lengths.Length).Where(i => Lengths[i] < 100).ToArray();
        var tooLong = Enumerable.Range(0, Lengths.Length).Where(i => Lengths[i] > 1400).ToArray();
        Assert.That(loader.Dropped.Where(d => d.Reason == DropReason.TooShort).Select(d => d.Index), Is.EquivalentTo(tooShort));
        Assert.That(loader.Dropped.Where(d => d.Reason == DropReason.TooLong).Select(d => d.Index), Is.EquivalentTo(tooLong));
        Assert.That(reported, Is.EquivalentTo(loader.Dropped));
        Assert.That(yielded.Concat(tooShort).Concat(tooLong), Is.EquivalentTo(Enumerable.Range(0, Lengths.Length)));
        Assert.That(loader.CroppedCount, Is.Zero);
    }

    [TestCase(0)]
    [TestCase(1)]
    public void MissingFile_StopsWithAnErrorNamingIt(int prefetch)
    {
        using var corpus = new TempCorpus(Lengths);
        File.Delete(corpus.Manifest.GetFullPath(6));
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = 2, Prefetch = prefetch });
        var ex = Assert.Throws<HArnessDataException>(() =>
        {
            foreach (var batch in loader) batch.Dispose();
        })!;
        Assert.That(ex.FilePath, Is.EqualTo(corpus.Manifest.GetFullPath(6)));
        Assert.That(ex.Message, Does.Contain("utt0006.wav").And.Contain("does not exist"));
    }

    [TestCase(0)]
    [TestCase(2)]
    public void SkipUnreadable_SkipsAndReportsOnlyThoseFiles(int prefetch)
    {
        using var corpus = new TempCorpus(Lengths);
        File.Delete(corpus.Manifest.GetFullPath(6));
        File.WriteAllText(corpus.Manifest.GetFullPath(13), "not a wav");
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = 2, Prefetch = prefetch, SkipUnreadable = true });
        var reported = new List<int>();
        loader.ItemDropped += (_, d) => { lock (reported) reported.Add(d.Index); };
        var yielded = new List<int>();
        foreach (var batch in loader)
        {
            using var _ = batch;
            yielded.AddRange(batch.Indices);
        }
        Assert.That(reported, Is.EquivalentTo(new[] { 6, 13 }));
        Assert.That(loader.Dropped.Select(d => (d.Index, d.Reason)), Is.EquivalentTo(new[] { (6, DropReason.Unreadable), (13, DropReason.Unreadable) }));
        Assert.That(loader.Dropped.Single(d => d.Index == 6).Message, Does.Contain("does not exist"));
        Assert.That(yielded, Is.EquivalentTo(Enumerable.Range(0, Lengths.Length).Except([6, 13])));

        // A second pass finds them again, without duplicates.
        foreach (var batch in loader) batch.Dispose();
        Assert.That(loader.Dropped, Has.Count.EqualTo(2));
    }

    [Test]
    public void Prefetch_HoldsAtMostPrefetchBatchesBesidesTheConsumers()
    {
        const int prefetch = 3, batchSize = 2, files = 120;
        using var corpus = new TempCorpus(Enumerable.Range(0, files).Select(i => 20 + i % 7).ToArray());
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = batchSize, Prefetch = prefetch, Shuffle = false });
        var taken = 0;
        var total = loader.Count;
        foreach (var batch in loader)
        {
            using var _ = batch;
            taken++;
            // Let the reader run ahead as far as it may; it must stop at Prefetch batches.
            var ahead = Math.Min(prefetch, total - taken);
            Assert.That(SpinWait.SpinUntil(() => loader.BatchesInFlight == ahead, TimeSpan.FromSeconds(30)), Is.True,
                $"reader should hold {ahead} batch(es) ahead, holds {loader.BatchesInFlight}");
            Assert.That(loader.Dataset.ItemsRead, Is.LessThanOrEqualTo((taken + prefetch) * batchSize));
            Assert.That(loader.LiveBatches, Is.EqualTo(1));
        }
        Assert.That(taken, Is.EqualTo(files / batchSize));
        Assert.That(loader.PeakBatchesInFlight, Is.EqualTo(prefetch));
        Assert.That(loader.BatchesInFlight, Is.Zero);
        Assert.That(loader.LiveBatches, Is.Zero);
        Assert.That(loader.Dataset.ItemsRead, Is.EqualTo(files));
    }

    [Test]
    public void StoppingEarly_StopsTheReader()
    {
        using var corpus = new TempCorpus(Enumerable.Repeat(50, 40).ToArray());
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = 2, Prefetch = 2, Shuffle = false });
        foreach (var batch in loader.Take(3)) batch.Dispose();
        Assert.That(loader.BatchesInFlight, Is.Zero);
        Assert.That(loader.Dataset.ItemsRead, Is.LessThanOrEqualTo((3 + 2) * 2));
    }

    [Test]
    public async Task AsyncEnumeration_YieldsTheSameBatches()
    {
        using var corpus = new TempCorpus(Lengths);
        var loader = Loader(corpus, new AudioLoaderOptions { BatchSize = 3, Prefetch = 2 });
        var got = new List<int[]>();
        await foreach (var batch in loader)
        {
            using var _ = batch;
            got.Add(batch.Indices.ToArray());
        }
        Assert.That(got, Is.EqualTo(loader.PlanBatches()));
    }

    [Test]
    public void Labels_TravelWithTheBatch()
    {
        using var corpus = new TempCorpus([30, 10, 20]);
        corpus.WriteLabels("emo", ["sad", "angry", "happy"]);
        corpus.WriteLabels("km", ["1 2 3", "4", "5 6"]);
        corpus.WriteLabels("wrd", ["GO", "NO", "UP LEFT"]);
        var ds = AudioDataset.Load(corpus.TsvPath, null, "emo", "km", "wrd");
        var loader = new AudioLoader(ds, new AudioLoaderOptions { BatchSize = 3, Shuffle = false, BucketByLength = false });
        using var batch = loader.Single();
        Assert.That(batch.Labels["emo"], Is.EqualTo(new[] { "sad", "angry", "happy" }));
        Assert.That(batch.Labels["wrd"], Is.EqualTo(new[] { "GO", "NO", "UP LEFT" }));
        using var classes = batch.ClassTargets("emo", ds.Labels["emo"].Classes);
        Assert.That(classes.data<long>().ToArray(), Is.EqualTo(new long[] { 2, 0, 1 }));
        var (units, unitLengths) = batch.UnitTargets("km");
        using (units)
        using (unitLengths)
        {
            Assert.That(units.shape, Is.EqualTo(new long[] { 3, 3 }));
            Assert.That(units.data<long>().ToArray(), Is.EqualTo(new long[] { 1, 2, 3, 4, -100, -100, 5, 6, -100 }));
            Assert.That(unitLengths.data<long>().ToArray(), Is.EqualTo(new long[] { 3, 1, 2 }));
        }
        var ex = Assert.Throws<HArnessConfigException>(() => batch.ClassTargets("dia", ["a"]))!;
        Assert.That(ex.Message, Does.Contain("emo"));
    }

    [Test]
    public void ClassTargets_TakeTheTrainingClassIds_WhenASplitLacksAClass()
    {
        // Training has angry/happy/sad; the test split has no 'angry', so its own sorted classes would make happy 0 and sad 1.
        using var train = new TempCorpus([10, 10, 10]);
        train.WriteLabels("emo", ["sad", "angry", "happy"]);
        using var test = new TempCorpus([10, 10]);
        test.WriteLabels("emo", ["happy", "sad"]);
        var classes = AudioDataset.Load(train.TsvPath, null, "emo").Labels["emo"].Classes;
        var ds = AudioDataset.Load(test.TsvPath, null, "emo");
        using var batch = new AudioLoader(ds, new AudioLoaderOptions { BatchSize = 2, Shuffle = false, BucketByLength = false }).Single();
        using var targets = batch.ClassTargets("emo", classes);
        Assert.That(targets.data<long>().ToArray(), Is.EqualTo(new long[] { 1, 2 }), "ids are positions in the training classes");
        var ex = Assert.Throws<HArnessDataException>(() => batch.ClassTargets("emo", ["happy", "angry"]))!;
        Assert.That(ex.Message, Does.Contain("'sad'").And.Contain("line 2"));
        Assert.That(ex.FilePath, Does.EndWith(".emo"));
        Assert.Throws<ArgumentException>(() => batch.ClassTargets("emo", ["sad", "sad"]));
        Assert.Throws<ArgumentException>(() => batch.ClassTargets("emo", []));
    }

    [Test]
    public void UnitTargets_FollowTheCrop_WhenGivenTheLabelRate()
    {
        // 1600 samples at 16 kHz = 0.1 s = 5 label frames at 50 Hz; labels are the frame numbers.
        using var corpus = new TempCorpus([1600, 960]);
        corpus.WriteLabels("km", ["0 1 2 3 4", "0 1 2"]);
        var ds = AudioDataset.Load(corpus.TsvPath, null, "km");
        var loader = new AudioLoader(ds, new AudioLoaderOptions { BatchSize = 2, MaxSampleSize = 640, Crop = CropMode.Random, Seed = 9, Shuffle = false, BucketByLength = false });
        using var batch = loader.Single();
        var (units, lengths) = batch.UnitTargets("km", labelRate: 50);
        using (units)
        using (lengths)
        {
            var t = (int)units.shape[1];
            var data = units.data<long>().ToArray();
            for (var r = 0; r < 2; r++)
            {
                var start = (long)Math.Round(batch.Offsets[r] * 50.0 / 16000, MidpointRounding.ToEven);
                var available = r == 0 ? 5 : 3;
                var size = Math.Min(available - start, 2);
                Assert.That(lengths.data<long>()[r], Is.EqualTo(size));
                for (var j = 0; j < size; j++) Assert.That(data[r * t + j], Is.EqualTo(start + j));
            }
        }
        Assert.That(batch.Offsets, Has.Some.GreaterThan(0));
    }

    [TestCase(0, 1, "BatchSize")]
    [TestCase(8, 0, "WorldSize")]
    public void Options_AreValidated(int batchSize, int worldSize, string option)
    {
        var ex = Assert.Throws<HArnessConfigException>(() =>
            new AudioLoaderOptions { BatchSize = batchSize, WorldSize = worldSize }.Validate())!;
        Assert.That(ex.OptionName, Is.EqualTo(option));
        Assert.Throws<HArnessConfigException>(() => new AudioLoaderOptions { Rank = 2, WorldSize = 2 }.Validate());
        Assert.Throws<HArnessConfigException>(() => new AudioLoaderOptions { BatchSize = null }.Validate());
        Assert.Throws<HArnessConfigException>(() => new AudioLoaderOptions { MaxTokens = 100, MaxSampleSize = 200 }.Validate());
    }

    [Test]
    public void ThePlannerIsAPureSeededFunctionOfSizesOptionsAndEpoch()
    {
        var sizes = Lengths.Select(l => (long)l).ToArray();
        var options = new AudioLoaderOptions { BatchSize = 3, MaxTokens = 3000, Seed = 5, BucketSize = 8 };
        var a = new BatchPlanner(sizes, options);
        var b = new BatchPlanner(sizes, options);
        Assert.That(a.Plan(2).IndexBatches, Is.EqualTo(b.Plan(2).IndexBatches), "same sizes, options and epoch: same plan");
        Assert.That(a.Plan(2).IndexBatches, Is.Not.EqualTo(a.Plan(3).IndexBatches), "another epoch: another shuffle");
        var plan = a.Plan(2);
        Assert.That(plan.Batches.SelectMany(x => x).Select(i => i.Index).Order(), Is.EqualTo(Enumerable.Range(0, sizes.Length)), "every utterance once");
        Assert.That(plan.Batches, Has.All.Matches<PlannedItem[]>(x => x.Length <= 3 && x.Length * x.Max(i => i.Count) <= 3000));

        // The loader reads exactly the planner's batches.
        using var corpus = new TempCorpus(Lengths);
        var loader = Loader(corpus, options);
        loader.SetEpoch(2);
        Assert.That(loader.PlanBatches(), Is.EqualTo(plan.IndexBatches));
        Assert.That(loader.Planner.Plan(2).IndexBatches, Is.EqualTo(plan.IndexBatches));

        // Shards of one epoch are disjoint and cover the corpus; a subset of entries plans only those.
        var r0 = new BatchPlanner(sizes, options with { WorldSize = 2, Rank = 0 }).Plan(1).Batches.SelectMany(x => x).Select(i => i.Index).ToArray();
        var r1 = new BatchPlanner(sizes, options with { WorldSize = 2, Rank = 1 }).Plan(1).Batches.SelectMany(x => x).Select(i => i.Index).ToArray();
        Assert.That(r0.Intersect(r1), Is.Empty);
        Assert.That(r0.Concat(r1).Order(), Is.EqualTo(Enumerable.Range(0, sizes.Length)));
        var subset = new BatchPlanner(sizes, options with { Shuffle = false }, entries: [4, 5, 6]).Plan(0);
        Assert.That(subset.Batches.SelectMany(x => x).Select(i => i.Index).Order(), Is.EqualTo(new[] { 4, 5, 6 }));
        Assert.Throws<HArnessConfigException>(() => _ = new BatchPlanner(sizes, options, entries: [sizes.Length]));
        Assert.Throws<HArnessConfigException>(() => a.Plan(-1));
    }

    [TestCase(0)]
    [TestCase(1)]
    public void ALoaderResumedAtEpochAndBatchYieldsExactlyTheBatchesNotYetSeen(int prefetch)
    {
        using var corpus = new TempCorpus(Lengths);
        var options = new AudioLoaderOptions { BatchSize = 3, Seed = 9, Prefetch = prefetch };
        var full = Loader(corpus, options);
        full.SetEpoch(4);
        var all = full.Select(b => { using (b) return b.Indices.ToArray(); }).ToList();
        Assert.That(all.Count, Is.GreaterThan(3));

        var resumed = Loader(corpus, options);
        resumed.SetPosition(epoch: 4, batch: 3);
        Assert.That(resumed.StartBatch, Is.EqualTo(3));
        var before = resumed.Dataset.ItemsRead;
        var rest = resumed.Select(b => { using (b) return b.Indices.ToArray(); }).ToList();
        Assert.That(rest, Is.EqualTo(all.Skip(3)));
        Assert.That(resumed.Dataset.ItemsRead - before, Is.EqualTo(all.Skip(3).Sum(x => x.Length)), "skipped batches are not read");

        resumed.SetEpoch(5);
        Assert.That(resumed.StartBatch, Is.Zero, "a new epoch starts at its first batch");
        Assert.Throws<HArnessConfigException>(() => resumed.SetPosition(4, all.Count + 1));
    }
}
