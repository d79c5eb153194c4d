using HArnESS.Data;

namespace HArnESS.Training;

/// <summary>
/// Adapts an <see cref="AudioLoader"/> to <see cref="IBatchSource{TBatch}"/>. The loader's own
/// <see cref="AudioLoaderOptions.Seed"/> and the epoch decide shuffles and random crops (the trainer's epoch seed is
/// not used; the signature says so), so the batches of an epoch repeat exactly: its <see cref="BatchPlanner"/> plans
/// an epoch from the manifest sizes alone, and starting mid-epoch (<see cref="AudioLoader.SetPosition"/>) skips the
/// earlier batches without reading their audio.
/// </summary>
public sealed class AudioLoaderBatchSource : IBatchSource<AudioBatch>
{
    private readonly AudioLoader _loader;

    /// <summary>Wraps a loader.</summary>
    /// <param name="loader">The loader; the source calls its <see cref="AudioLoader.SetEpoch"/>.</param>
    public AudioLoaderBatchSource(AudioLoader loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        _loader = loader;
        var m = loader.Dataset.Manifest;
        Signature = $"audio-loader(manifest={m.SourcePath ?? m.Root}; entries={m.Count}; samples={m.TotalSamples}; " +
            $"labels={string.Join(",", loader.Dataset.Labels.Keys.Order(StringComparer.Ordinal))}; options={loader.Options with { Prefetch = 0 }}; trainer seed unused)";
    }

    /// <inheritdoc />
    public string Signature { get; }

    /// <inheritdoc />
    public int CountBatches(int epoch, long epochSeed) => _loader.Planner.Plan(epoch).Count;

    /// <inheritdoc />
    public IEnumerable<AudioBatch> Read(int epoch, int startBatch, long epochSeed, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startBatch);
        return ReadCore(epoch, startBatch, cancellationToken);
    }

    private IEnumerable<AudioBatch> ReadCore(int epoch, int startBatch, CancellationToken ct)
    {
        _loader.SetPosition(epoch, startBatch);
        foreach (var batch in _loader)
        {
            ct.ThrowIfCancellationRequested();
            yield return batch;
        }
    }

    /// <inheritdoc />
    public double AudioSeconds(AudioBatch batch) =>
        batch.LengthsArray.Sum() / (double)_loader.Dataset.Options.SampleRate;
}
