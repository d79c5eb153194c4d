namespace HArnESS.Training;

/// <summary>
/// A deterministic, resumable source of training batches. Epoch <c>e</c> is always the same sequence of batches for
/// the same <c>epochSeed</c>, and reading can start at any batch of it, so a run resumed from a checkpoint's
/// <see cref="BatchPosition"/> sees exactly the batches an uninterrupted run would.
/// </summary>
/// <remarks>
/// The trainer owns the shuffling seed: it passes <c>epochSeed</c> (derived from <see cref="TrainerOptions.Seed"/> and
/// the epoch) to <see cref="Read"/>. A source that has its own seed (an <c>AudioLoader</c>) may ignore it but must say
/// so in <see cref="Signature"/>. Batches are created on the enumerating thread (tensor code stays on the caller's
/// thread); the trainer disposes each batch after its step. Implementations: <see cref="InMemoryBatchSource{TItem, TBatch}"/>
/// and <see cref="AudioLoaderBatchSource"/>; the adapter point for other loaders is this interface.
/// </remarks>
/// <typeparam name="TBatch">The batch type the objective consumes.</typeparam>
public interface IBatchSource<TBatch> where TBatch : IDisposable
{
    /// <summary>Everything that decides the content and order of the batches (corpus, batch size, crops, seed
    /// handling), as one string. It is part of the run config a checkpoint records, so resuming under a different
    /// source is refused.</summary>
    string Signature { get; }

    /// <summary>Number of batches in epoch <paramref name="epoch"/> (at least 1 for a usable source).</summary>
    /// <param name="epoch">The epoch (0-based).</param>
    /// <param name="epochSeed">The trainer's seed for this epoch (see <see cref="Read"/>).</param>
    int CountBatches(int epoch, long epochSeed);

    /// <summary>Reads the batches of epoch <paramref name="epoch"/> from batch <paramref name="startBatch"/> on, in
    /// order. Batches before <paramref name="startBatch"/> must not change what is read after it.</summary>
    /// <param name="epoch">The epoch (0-based).</param>
    /// <param name="startBatch">First batch to yield (0-based, at most <see cref="CountBatches"/>).</param>
    /// <param name="epochSeed">The trainer's seed for this epoch's shuffle.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    IEnumerable<TBatch> Read(int epoch, int startBatch, long epochSeed, CancellationToken cancellationToken = default);

    /// <summary>Seconds of audio in a batch (valid samples only, not padding), for the throughput figure
    /// (audio seconds per second). Return 0 when it does not apply.</summary>
    /// <param name="batch">A batch this source produced.</param>
    double AudioSeconds(TBatch batch);
}
