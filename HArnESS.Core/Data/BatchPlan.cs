namespace HArnESS.Data;

/// <summary>The batches of one epoch as <see cref="BatchPlanner.Plan"/> made them: a pure function of the sizes,
/// the options and the epoch (no audio is read), so a resumed run re-plans the epoch and continues at its batch.</summary>
/// <param name="Epoch">The epoch the plan is for.</param>
/// <param name="Batches">The batches in the order they are read, each the utterances (and crops) it holds.</param>
/// <param name="Dropped">Utterances of this shard left out by the length filter (too short, or too long with <see cref="CropMode.Drop"/>).</param>
/// <param name="Cropped">Utterances cropped to <see cref="AudioLoaderOptions.MaxSampleSize"/>.</param>
public sealed record BatchPlan(int Epoch, IReadOnlyList<PlannedItem[]> Batches, IReadOnlyList<DroppedItem> Dropped, int Cropped)
{
    /// <summary>Number of batches.</summary>
    public int Count => Batches.Count;

    /// <summary>The manifest indices of every batch, in order.</summary>
    public IReadOnlyList<IReadOnlyList<int>> IndexBatches =>
        Batches.Select(b => (IReadOnlyList<int>)b.Select(i => i.Index).ToArray()).ToArray();
}
