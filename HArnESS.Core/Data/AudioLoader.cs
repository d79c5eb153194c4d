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
    private int _startBatch;
    private int _inFlight;
    private int _peakInFlight;
    private int _liveBatches;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The utterances.</param>
    /// <param name="options">Batching options; <see cref="AudioLoaderOptions.Default"/> when null.</param>
    /// <param name="logger">Receives a warning for every dropped utterance.</param>
    /// <exception cref="HArnessConfigException">An option is invalid.</exception>
    /// <param name="entries">The manifest entries to read (for example one contiguous shard of a feature dump), in
    /// order before shuffling; null = all.</param>
    public AudioLoader(AudioDataset dataset, AudioLoaderOptions? options = null, ILogger? logger = null, IReadOnlyList<int>? entries = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Dataset = dataset;
        Planner = new BatchPlanner(dataset, options, entries);
        Options = Planner.Options;
        _logger = logger;
    }

    /// <summary>The planner that decides every epoch's batches (a pure function of the sizes, options and epoch).</summary>
    public BatchPlanner Planner { get; }

    /// <summary>The batch of the current epoch that enumeration starts at (0 unless <see cref="SetPosition"/> moved it).</summary>
    public int StartBatch => _startBatch;

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
            _startBatch = 0;
            if (epoch == _epoch && _plan is not null) return;
            _epoch = epoch;
            _plan = null;
        }
    }

    /// <summary>
    /// Resumes at (<paramref name="epoch"/>, <paramref name="batch"/>): the epoch is planned as <see cref="SetEpoch"/>
    /// does, and enumeration starts at its batch <paramref name="batch"/> (the batches before it are skipped without
    /// reading their audio). A run stopped after consuming <c>b</c> batches of epoch <c>e</c> continues with
    /// <c>SetPosition(e, b)</c> and sees exactly the batches it had not seen.
    /// </summary>
    /// <param name="epoch">The epoch (non-negative).</param>
    /// <param name="batch">Batches of that epoch already consumed, in [0, <see cref="Count"/>].</param>
    /// <exception cref="HArnessConfigException">The epoch is negative or the batch is out of range.</exception>
    public void SetPosition(int epoch, int batch)
    {
        SetEpoch(epoch);
        var count = Count;
        if (batch < 0 || batch > count)
            throw new HArnessConfigException($"batch must be in [0, {count}] for epoch {epoch}, got {batch}.", nameof(batch));
        lock (_gate) _startBatch = batch;
    }

    /// <summary>The manifest indices of every batch this shard yields in the current epoch, in order (no audio is read).</summary>
    public IReadOnlyList<IReadOnlyList<int>> PlanBatches() =>
        EnsurePlan().Batches.Select(b => (IReadOnlyList<int>)b.Select(i => i.Index).ToArray()).ToArray();

    private IEnumerable<PlannedItem[]> Remaining(Plan plan) => plan.Batches.Skip(Volatile.Read(ref _startBatch));

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
            foreach (var batch in Remaining(plan))
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
                foreach (var batch in Remaining(plan))
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
        var planned = Planner.Plan(_epoch);
        var plan = new Plan(planned.Batches, planned.Cropped);
        lock (_gate)
        {
            if (_plan is not null) return _plan;
            _plan = plan;
        }
        foreach (var d in planned.Dropped) Drop(d);
        return plan;
    }

    private sealed record Plan(IReadOnlyList<PlannedItem[]> Batches, int Cropped);
}
