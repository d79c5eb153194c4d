using HArnESS.Training;

namespace HArnESS.Distillation.DependencyInjection;

/// <summary>Reads a batch source without its cancellation token, so a cancelled run stops only at the trainer's
/// step-boundary check (which writes a checkpoint first), never inside a batch read (which would leave without one).
/// Signature, batch counts and audio seconds are the inner source's, so checkpoints are interchangeable.</summary>
internal sealed class StepBoundaryBatchSource<TBatch>(IBatchSource<TBatch> inner) : IBatchSource<TBatch> where TBatch : IDisposable
{
    public string Signature => inner.Signature;

    public int CountBatches(int epoch, long epochSeed) => inner.CountBatches(epoch, epochSeed);

    public IEnumerable<TBatch> Read(int epoch, int startBatch, long epochSeed, CancellationToken cancellationToken = default) =>
        inner.Read(epoch, startBatch, epochSeed, CancellationToken.None);

    public double AudioSeconds(TBatch batch) => inner.AudioSeconds(batch);
}
