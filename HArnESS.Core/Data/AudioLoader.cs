using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace HArnESS.Data;

/// <summary>
/// Streams padded <see cref="AudioBatch"/>es from an <see cref="AudioDataset"/>: filters by length, crops (random or
/// fixed), buckets by length, shuffles with a seed per epoch, shards by (rank, world size), and reads ahead a bounded
/// number of batches on a background task. Only the batch plan (indices and sizes) is held for the whole epoch;
/// audio is read batch by batch, so memory stays bounded by <see cref="AudioLoaderOptions.Prefetch"/> + 1 batches.
/// </summary>
/// <remarks>
/// Nothing is left out silently: utterances dropped by the length filter or skipped as unreadable are listed in
/// <see cref="Dropped"/>, raised through <see cref="ItemDropped"/> and logged. Enumerate it again for another pass
/// over the same epoch; call <see cref="SetEpoch"/> for a new shuffle and new random crops.
/// <para>
/// <c>await foreach (var batch in loader)</c> works through <see cref="GetAsyncEnumerator"/>; the loader implements only
/// <see cref="IEnumerable{T}"/> so that LINQ calls on it are not ambiguous (use <see cref="AsAsyncEnumerable"/> for async LINQ).
/// </para>
/// </remarks>
public sealed class AudioLoader : IEnumerable<AudioBatch>
{
    private readonly ILogger? _logger;
    private readonly Lock _gate = new();
    private readonly List<DroppedItem> _dropped = [];
    private Plan? _plan;
    private int _epoch;
    private int _inFlight;
    private int _peakInFlight;
    private int _liveBatches;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The utterances.</param>
    /// <param name="options">Batching options; <see cref="AudioLoaderOptions.Default"/> when null.</param>
    /// <param name="logger">Receives a warning for every dropped utterance.</param>
    /// <exception cref="HArnessConfigException">An option is invalid.</exception>
    public AudioLoader(AudioDataset dataset, AudioLoaderOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Dataset = dataset;
        Options = options ?? AudioLoaderOptions.Default;
        Options.Validate();
        _logger = logger;
    }

    /// <summary>The dataset.</summary>
    public AudioDataset Dataset { get; }

    /// <summary>The options.</summary>
    public AudioLoaderOptions Options { get; }

    /// <summary>The epoch that seeds shuffling and random crops (0 until <see cref="SetEpoch"/>).</summary>
    public int Epoch => _epoch;

    /// <summary>Raised (on the reading thread, which is a background one when prefetching) for every utterance left out.</summary>
    public event EventHandler<DroppedItem>? ItemDropped;

    /// <summary>Utterances of this shard left out in the current epoch: by the length filter (known once planned) and, so far, as unreadable.</summary>
    public IReadOnlyList<DroppedItem> Dropped
    {
        get
        {
            EnsurePlan();
            lock (_gate) return _dropped.ToArray();
        }
    }

    /// <summary>Number of utterances in this shard's current epoch that are cropped to <see cref="AudioLoaderOptions.MaxSampleSize"/>.</summary>
    public int CroppedCount => EnsurePlan().Cropped;

    /// <summary>Number of batches this shard yields in the current epoch (fewer if unreadable files empty a whole batch).</summary>
    public int Count => EnsurePlan().Batches.Count;

    /// <summary>Batches being read or waiting for the consumer right now (a hook for checking that memory stays bounded).</summary>
    public int BatchesInFlight => Volatile.Read(ref _inFlight);

    /// <summary>Largest <see cref="BatchesInFlight"/> seen since the loader was created; never above <see cref="AudioLoaderOptions.Prefetch"/> (at least 1).</summary>
    public int PeakBatchesInFlight => Volatile.Read(ref _peakInFlight);

    /// <summary>Batches handed out and not yet disposed.</summary>
    public int LiveBatches => Volatile.Read(ref _liveBatches);

    /// <summary>Selects the epoch: a different shuffle and different random crops per epoch, the same ones for the same epoch.</summary>
    /// <param name="epoch">The epoch number (non-negative).</param>
    /// <exception cref="HArnessConfigException">The epoch is negative.</exception>
    public void SetEpoch(int epoch)
    {
        if (epoch < 0) throw new HArnessConfigException($"epoch must be non-negative, got {epoch}.", nameof(epoch));
        lock (_gate)
        {
            if (epoch == _epoch && _plan is not null) return;
            _epoch = epoch;
            _plan = null;
        }
    }

    /// <summary>The manifest indices of every batch this shard yields in the current epoch, in order (no audio is read).</summary>
    public IReadOnlyList<IReadOnlyList<int>> PlanBatches() =>
        EnsurePlan().Batches.Select(b => (IReadOnlyList<int>)b.Select(i => i.Index).ToArray()).ToArray();

    /// <summary>Reads the batches of the current epoch; the tensors are created on the enumerating thread.</summary>
    public IEnumerator<AudioBatch> GetEnumerator()
    {
        var source = ReadPrepared(CancellationToken.None).GetAsyncEnumerator();
        try
        {
            while (source.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                yield return MakeBatch(source.Current);
        }
        finally
        {
            source.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Reads the batches of the current epoch asynchronously (what <c>await foreach</c> calls).</summary>
    /// <param name="cancellationToken">Stops reading (the background reader too).</param>
    public IAsyncEnumerator<AudioBatch> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        AsAsyncEnumerable(cancellationToken).GetAsyncEnumerator(cancellationToken);

    /// <summary>The batches of the current epoch as an async sequence.</summary>
    /// <param name="cancellationToken">Stops reading (the background reader too).</param>
    public async IAsyncEnumerable<AudioBatch> AsAsyncEnumerable([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var items in ReadPrepared(cancellationToken).ConfigureAwait(false))
            yield return MakeBatch(items);
    }

    private AudioBatch MakeBatch(AudioItem[] items)
    {
        Interlocked.Increment(ref _liveBatches);
        return new AudioBatch(items, Dataset.Labels, () => Interlocked.Decrement(ref _liveBatches));
    }

    private async IAsyncEnumerable<AudioItem[]> ReadPrepared([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var plan = EnsurePlan();
        lock (_gate)
        {
            // A new pass over the epoch: the length filter's drops stay, unreadable files are found again.
            _dropped.RemoveAll(d => d.Reason == DropReason.Unreadable);
        }
        if (Options.Prefetch == 0)
        {
            foreach (var batch in plan.Batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                EnterFlight();
                var items = ReadBatch(batch);
                Interlocked.Decrement(ref _inFlight);
                if (items.Length > 0) yield return items;
            }
            yield break;
        }

        // The producer takes a permit before reading a batch and the consumer gives it back when it takes the batch,
        // so at most Prefetch batches are being read or waiting, besides the one the consumer holds.
        var channel = Channel.CreateUnbounded<AudioItem[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var permits = new SemaphoreSlim(Options.Prefetch, Options.Prefetch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? failure = null;
        var producer = Task.Run(async () =>
        {
            try
            {
                foreach (var batch in plan.Batches)
                {
                    await permits.WaitAsync(stop.Token).ConfigureAwait(false);
                    EnterFlight();
                    var handedOver = false;
                    try
                    {
                        var items = ReadBatch(batch);
                        // Unbounded and not yet completed: TryWrite always succeeds; the permits bound the queue.
                        handedOver = items.Length > 0 && channel.Writer.TryWrite(items);
                    }
                    finally
                    {
                        if (!handedOver)
                        {
                            Interlocked.Decrement(ref _inFlight);
                            permits.Release();
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var items))
                {
                    Interlocked.Decrement(ref _inFlight);
                    permits.Release();
                    yield return items;
                }
            }
            failure?.Throw();
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
            // Batches read ahead but never taken leave the flight.
            while (channel.Reader.TryRead(out _)) Interlocked.Decrement(ref _inFlight);
        }
    }

    private void EnterFlight()
    {
        var now = Interlocked.Increment(ref _inFlight);
        int peak;
        while (now > (peak = Volatile.Read(ref _peakInFlight)) && Interlocked.CompareExchange(ref _peakInFlight, now, peak) != peak) { }
    }

    private AudioItem[] ReadBatch(PlannedItem[] batch)
    {
        var items = new List<AudioItem>(batch.Length);
        foreach (var p in batch)
        {
            try
            {
                items.Add(Dataset.Read(p.Index, p.Start, p.Count));
            }
            catch (HArnessDataException ex) when (Options.SkipUnreadable)
            {
                Drop(new DroppedItem(p.Index, Dataset.PathOf(p.Index), DropReason.Unreadable, ex.Message));
            }
        }
        return items.ToArray();
    }

    private void Drop(DroppedItem item)
    {
        lock (_gate) _dropped.Add(item);
        _logger?.LogWarning("Audio loader left out manifest entry {Index} ({Path}): {Reason}: {Message}", item.Index, item.Path, item.Reason, item.Message);
        ItemDropped?.Invoke(this, item);
    }

    private Plan EnsurePlan()
    {
        lock (_gate)
        {
            if (_plan is not null) return _plan;
            _dropped.Clear();
        }
        var plan = BuildPlan(_epoch, out var filtered);
        lock (_gate)
        {
            if (_plan is not null) return _plan;
            _plan = plan;
        }
        foreach (var d in filtered) Drop(d);
        return plan;
    }

    private Plan BuildPlan(int epoch, out List<DroppedItem> filtered)
    {
        var o = Options;
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (o.Shuffle) new Random(SeedFor(o.Seed, epoch, 0)).Shuffle(order);

        // Shard first, so each rank filters and reports only its own utterances.
        var shard = order.Where((_, position) => position % o.WorldSize == o.Rank).ToArray();

        filtered = [];
        var kept = new List<PlannedItem>(shard.Length);
        var cropped = 0;
        foreach (var index in shard)
        {
            var size = Dataset.SizeOf(index);
            if (size < o.MinSampleSize)
            {
                filtered.Add(new DroppedItem(index, Dataset.PathOf(index), DropReason.TooShort,
                    $"{size} samples < MinSampleSize {o.MinSampleSize}"));
                continue;
            }
            if (o.MaxSampleSize is { } max && size > max)
            {
                if (o.Crop == CropMode.Drop)
                {
                    filtered.Add(new DroppedItem(index, Dataset.PathOf(index), DropReason.TooLong,
                        $"{size} samples > MaxSampleSize {max}"));
                    continue;
                }
                var start = o.Crop == CropMode.Random ? CropStart(o.Seed, epoch, index, size - max) : 0;
                kept.Add(new PlannedItem(index, start, max));
                cropped++;
                continue;
            }
            if (o.MaxTokens is { } tokens && size > tokens)
                throw new HArnessConfigException(
                    $"Manifest entry {index} ('{Dataset.PathOf(index)}') has {size} samples, more than MaxTokens {tokens}; " +
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
            if (o.Shuffle) new Random(SeedFor(o.Seed, epoch, 1)).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));
        }
        else
        {
            Cut(kept, batches);
        }
        return new Plan(batches, cropped);
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

    private readonly record struct PlannedItem(int Index, long Start, long Count);

    private sealed record Plan(IReadOnlyList<PlannedItem[]> Batches, int Cropped);
}
