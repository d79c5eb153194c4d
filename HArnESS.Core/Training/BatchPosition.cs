namespace HArnESS.Training;

/// <summary>Where a batch source stands: the next batch to read is batch <see cref="Batch"/> (0-based) of epoch
/// <see cref="Epoch"/> (0-based). Saved in every checkpoint so a resumed run reads exactly the batches the
/// interrupted one would have read next.</summary>
/// <param name="Epoch">The epoch (0-based).</param>
/// <param name="Batch">The batch within the epoch (0-based).</param>
public readonly record struct BatchPosition(int Epoch, int Batch)
{
    /// <summary>Text form <c>epoch E, batch B</c> (0-based).</summary>
    public override string ToString() => $"epoch {Epoch}, batch {Batch}";
}
