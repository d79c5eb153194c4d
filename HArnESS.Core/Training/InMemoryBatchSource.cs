namespace HArnESS.Training;

/// <summary>
/// A batch source over items held in memory: each epoch shuffles the items with the trainer's epoch seed (a
/// Fisher–Yates shuffle driven by <see cref="System.Random"/> seeded with it; optional), cuts them into batches of
/// <see cref="BatchSize"/> (the last one shorter unless <see cref="DropLast"/>), and builds each batch with the
/// given function on the reading thread. Deterministic for a given seed and epoch, and resumable at any batch.
/// </summary>
/// <typeparam name="TItem">An item (an utterance, a feature matrix, a tensor pair).</typeparam>
/// <typeparam name="TBatch">The batch built from a list of items.</typeparam>
public sealed class InMemoryBatchSource<TItem, TBatch> : IBatchSource<TBatch> where TBatch : IDisposable
{
    private readonly IReadOnlyList<TItem> _items;
    private readonly Func<IReadOnlyList<TItem>, TBatch> _makeBatch;
    private readonly Func<TBatch, double>? _audioSeconds;

    /// <summary>Creates the source.</summary>
    /// <param name="items">The items (at least one).</param>
    /// <param name="batchSize">Items per batch (positive).</param>
    /// <param name="makeBatch">Builds a batch from its items (called on the trainer's thread).</param>
    /// <param name="shuffle">Shuffle the items every epoch with the trainer's epoch seed.</param>
    /// <param name="dropLast">Leave out a last, shorter batch.</param>
    /// <param name="audioSeconds">Seconds of audio in a batch, for throughput; null reports 0.</param>
    /// <param name="name">A name for <see cref="Signature"/> (what the items are: "demo train, 115 utterances").</param>
    /// <exception cref="ArgumentException">No items, or the batch size is not positive or leaves no batch.</exception>
    public InMemoryBatchSource(IReadOnlyList<TItem> items, int batchSize, Func<IReadOnlyList<TItem>, TBatch> makeBatch,
        bool shuffle = true, bool dropLast = false, Func<TBatch, double>? audioSeconds = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(makeBatch);
        if (items.Count == 0) throw new ArgumentException("Expected at least one item, got none.", nameof(items));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Must be positive.");
        if (dropLast && batchSize > items.Count)
            throw new ArgumentException($"batchSize {batchSize} with dropLast leaves no batch from {items.Count} items.", nameof(batchSize));
        _items = items;
        _makeBatch = makeBatch;
        _audioSeconds = audioSeconds;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Signature = $"in-memory({name ?? typeof(TItem).Name}; items={items.Count}; batch={batchSize}; shuffle={shuffle}; dropLast={dropLast})";
    }

    /// <summary>Items per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether a last, shorter batch is left out.</summary>
    public bool DropLast { get; }

    /// <inheritdoc />
    public string Signature { get; }

    /// <inheritdoc />
    public int CountBatches(int epoch, long epochSeed) =>
        DropLast ? _items.Count / BatchSize : (_items.Count + BatchSize - 1) / BatchSize;

    /// <summary>The item indices of every batch of an epoch, in order (what <see cref="Read"/> builds batches from).</summary>
    /// <param name="epochSeed">The trainer's seed for the epoch.</param>
    public IReadOnlyList<int[]> Plan(long epochSeed)
    {
        var order = Enumerable.Range(0, _items.Count).ToArray();
        if (Shuffle)
        {
            var rng = new Random(unchecked((int)(epochSeed ^ (epochSeed >> 32))));
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = rng.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        var n = CountBatches(0, epochSeed);
        var plan = new int[n][];
        for (var b = 0; b < n; b++)
            plan[b] = order.AsSpan(b * BatchSize, Math.Min(BatchSize, order.Length - b * BatchSize)).ToArray();
        return plan;
    }

    /// <inheritdoc />
    public IEnumerable<TBatch> Read(int epoch, int startBatch, long epochSeed, CancellationToken cancellationToken = default)
    {
        var plan = Plan(epochSeed);
        if (startBatch < 0 || startBatch > plan.Count)
            throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"Must be between 0 and {plan.Count}.");
        return ReadCore(plan, startBatch, cancellationToken);
    }

    private IEnumerable<TBatch> ReadCore(IReadOnlyList<int[]> plan, int startBatch, CancellationToken ct)
    {
        for (var b = startBatch; b < plan.Count; b++)
        {
            ct.ThrowIfCancellationRequested();
            yield return _makeBatch(plan[b].Select(i => _items[i]).ToArray());
        }
    }

    /// <inheritdoc />
    public double AudioSeconds(TBatch batch) => _audioSeconds?.Invoke(batch) ?? 0;
}
