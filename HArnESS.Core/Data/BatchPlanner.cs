using System.Runtime.InteropServices;

namespace HArnESS.Data;

/// <summary>
/// Plans the batches of an epoch from the manifest's sizes alone: filters by length, crops (random or fixed), shards
/// by (<see cref="AudioLoaderOptions.Rank"/>, <see cref="AudioLoaderOptions.WorldSize"/>), buckets by length, cuts
/// batches by <see cref="AudioLoaderOptions.BatchSize"/> and <see cref="AudioLoaderOptions.MaxTokens"/>, and shuffles
/// with a seed per epoch. <see cref="Plan"/> is deterministic: the same sizes, options and epoch give the same batches
/// on every machine and run, which is what lets a trainer resume at (epoch, batch). <see cref="AudioLoader"/> reads
/// the audio of these plans; a trainer can use the planner alone (for example to count the batches of an epoch).
/// </summary>
/// <remarks>
/// Order of the steps: shuffle all entries (seed, epoch) → keep every <c>WorldSize</c>-th for this rank → length
/// filter and crops → sort by length within buckets of <see cref="AudioLoaderOptions.BucketSize"/> → greedy cut →
/// shuffle the batch order (seed, epoch). <see cref="AudioLoaderOptions.Prefetch"/> and
/// <see cref="AudioLoaderOptions.SkipUnreadable"/> do not change the plan.
/// </remarks>
public sealed class BatchPlanner
{
    private readonly long[] _sizes;
    private readonly int[] _entries;
    private readonly Func<int, string> _pathOf;

    /// <summary>Plans over every entry of a dataset.</summary>
    /// <param name="dataset">The utterances (only their manifest sizes are used).</param>
    /// <param name="options">Batching options; <see cref="AudioLoaderOptions.Default"/> when null.</param>
    /// <param name="entries">The manifest entries to plan (for example one contiguous shard of a dump), in order; null = all.</param>
    /// <exception cref="HArnessConfigException">An option is invalid, or an entry index is out of range.</exception>
    public BatchPlanner(AudioDataset dataset, AudioLoaderOptions? options = null, IReadOnlyList<int>? entries = null)
        : this(Sizes(dataset), options, entries, dataset.PathOf)
    {
    }

    /// <summary>Plans over utterances given by their sizes.</summary>
    /// <param name="sizes">Samples of every manifest entry.</param>
    /// <param name="options">Batching options; <see cref="AudioLoaderOptions.Default"/> when null.</param>
    /// <param name="entries">The entries to plan, in order; null = all.</param>
    /// <param name="pathOf">Names an entry in <see cref="DroppedItem"/>s and errors; null = its index.</param>
    /// <exception cref="HArnessConfigException">An option is invalid, or an entry index is out of range.</exception>
    public BatchPlanner(IReadOnlyList<long> sizes, AudioLoaderOptions? options = null, IReadOnlyList<int>? entries = null, Func<int, string>? pathOf = null)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        Options = options ?? AudioLoaderOptions.Default;
        Options.Validate();
        _sizes = sizes.ToArray();
        _entries = entries?.ToArray() ?? Enumerable.Range(0, _sizes.Length).ToArray();
        foreach (var e in _entries)
            if ((uint)e >= (uint)_sizes.Length)
                throw new HArnessConfigException($"entries must be manifest indices in [0, {_sizes.Length}), got {e}.", nameof(entries));
        _pathOf = pathOf ?? (i => $"entry {i}");
    }

    /// <summary>The options.</summary>
    public AudioLoaderOptions Options { get; }

    /// <summary>The manifest entries planned, before shuffling and sharding.</summary>
    public IReadOnlyList<int> Entries => _entries;

    /// <summary>Plans epoch <paramref name="epoch"/>.</summary>
    /// <param name="epoch">The epoch (non-negative); it seeds the shuffles and the random crops.</param>
    /// <exception cref="HArnessConfigException">The epoch is negative, or an utterance is longer than
    /// <see cref="AudioLoaderOptions.MaxTokens"/> with no <see cref="AudioLoaderOptions.MaxSampleSize"/> to crop it.</exception>
    public BatchPlan Plan(int epoch)
    {
        if (epoch < 0) throw new HArnessConfigException($"epoch must be non-negative, got {epoch}.", nameof(epoch));
        var o = Options;
        var order = _entries.ToArray();
        if (o.Shuffle) new Random(SeedFor(o.Seed, epoch, 0)).Shuffle(order);

        // Shard first, so each rank filters and reports only its own utterances.
        var shard = order.Where((_, position) => position % o.WorldSize == o.Rank).ToArray();

        var filtered = new List<DroppedItem>();
        var kept = new List<PlannedItem>(shard.Length);
        var cropped = 0;
        foreach (var index in shard)
        {
            var size = _sizes[index];
            if (size < o.MinSampleSize)
            {
                filtered.Add(new DroppedItem(index, _pathOf(index), DropReason.TooShort, $"{size} samples < MinSampleSize {o.MinSampleSize}"));
                continue;
            }
            if (o.MaxSampleSize is { } max && size > max)
            {
                if (o.Crop == CropMode.Drop)
                {
                    filtered.Add(new DroppedItem(index, _pathOf(index), DropReason.TooLong, $"{size} samples > MaxSampleSize {max}"));
                    continue;
                }
                var start = o.Crop == CropMode.Random ? CropStart(o.Seed, epoch, index, size - max) : 0;
                kept.Add(new PlannedItem(index, start, max));
                cropped++;
                continue;
            }
            if (o.MaxTokens is { } tokens && size > tokens)
                throw new HArnessConfigException(
                    $"Manifest entry {index} ('{_pathOf(index)}') has {size} samples, more than MaxTokens {tokens}; " +
                    "set MaxSampleSize to crop it or raise MaxTokens.", nameof(AudioLoaderOptions.MaxTokens));
            kept.Add(new PlannedItem(index, 0, size));
        }

        var batches = new List<PlannedItem[]>();
        if (o.BucketByLength)
        {
            var bucket = o.BucketSize ?? Math.Max(kept.Count, 1);
            for (var s = 0; s < kept.Count; s += bucket)
            {
                // Stable sort by length: ties keep their shuffled order.
                var sorted = kept.Skip(s).Take(bucket).Select((p, k) => (p, k))
                    .OrderBy(x => x.p.Count).ThenBy(x => x.k).Select(x => x.p);
                Cut(sorted, batches);
            }
            if (o.Shuffle) new Random(SeedFor(o.Seed, epoch, 1)).Shuffle(CollectionsMarshal.AsSpan(batches));
        }
        else
        {
            Cut(kept, batches);
        }
        return new BatchPlan(epoch, batches, filtered, cropped);
    }

    // Greedy cut: close a batch when one more item would pass BatchSize or MaxTokens (count × longest).
    private void Cut(IEnumerable<PlannedItem> items, List<PlannedItem[]> batches)
    {
        var current = new List<PlannedItem>();
        long longest = 0;
        foreach (var item in items)
        {
            var newLongest = Math.Max(longest, item.Count);
            var full = current.Count > 0 &&
                       ((Options.BatchSize is { } bs && current.Count >= bs) ||
                        (Options.MaxTokens is { } mt && (current.Count + 1) * newLongest > mt));
            if (full)
            {
                batches.Add(current.ToArray());
                current.Clear();
                newLongest = item.Count;
            }
            current.Add(item);
            longest = newLongest;
        }
        if (current.Count > 0) batches.Add(current.ToArray());
    }

    private static long[] Sizes(AudioDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return Enumerable.Range(0, dataset.Count).Select(dataset.SizeOf).ToArray();
    }

    private static int SeedFor(int seed, int epoch, int stream) =>
        (int)(SplitMix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)epoch << 20) ^ (ulong)stream) >> 33);

    private static long CropStart(int seed, int epoch, int index, long range)
    {
        var h = SplitMix(SplitMix((ulong)(uint)seed ^ ((ulong)(uint)epoch << 32)) ^ (ulong)(uint)index ^ 0xC0FFEEUL);
        return (long)(h % (ulong)(range + 1));
    }

    // SplitMix64: a fixed, platform-independent mix so seeds, crops and shuffles repeat across runs and machines.
    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
