using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Any re-enumerable sequence of feature chunks <c>[rows, D]</c> as a <see cref="IFeatureSource"/> (for example chunks
/// computed on the fly). The first pass counts the rows when no count is given.
/// </summary>
public sealed class EnumerableFeatureSource : IFeatureSource
{
    private readonly Func<IEnumerable<Tensor>> _open;
    private long? _rows;

    /// <summary>Creates the source.</summary>
    /// <param name="open">Starts a new pass; every call must yield the same chunks in the same order. The source
    /// disposes nothing it did not create: chunks are handed on to the reader, who disposes them.</param>
    /// <param name="dimension">Feature dimension D.</param>
    /// <param name="rows">Total rows, when known (otherwise counted by one pass on first use).</param>
    /// <param name="name">Name used in error messages.</param>
    public EnumerableFeatureSource(Func<IEnumerable<Tensor>> open, int dimension, long? rows = null, string name = "chunks")
    {
        ArgumentNullException.ThrowIfNull(open);
        if (dimension < 1) throw new HArnessConfigException($"dimension must be positive, got {dimension}.", nameof(dimension));
        _open = open;
        Dimension = dimension;
        _rows = rows;
        Name = name;
    }

    /// <summary>Name used in error messages.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    public long Rows
    {
        get
        {
            if (_rows is { } r) return r;
            long total = 0;
            foreach (var chunk in ReadChunks())
                using (chunk) total += chunk.shape[0];
            _rows = total;
            return total;
        }
    }

    /// <inheritdoc/>
    public IEnumerable<Tensor> ReadChunks(CancellationToken cancellationToken = default)
    {
        var index = 0;
        foreach (var chunk in _open())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var origin = $"{Name} chunk {index}";
            FeatureChecks.RequireMatrix(chunk, Dimension, origin);
            var bad = FeatureChecks.FirstNonFiniteRow(chunk);
            if (bad >= 0)
            {
                chunk.Dispose();
                throw new HArnessDataException($"{origin}: row {bad} holds NaN or infinite values.");
            }
            index++;
            yield return chunk.dtype == ScalarType.Float32 && chunk.device_type == DeviceType.CPU
                ? chunk
                : Convert(chunk);
        }
    }

    private static Tensor Convert(Tensor chunk)
    {
        using (chunk) return chunk.to(ScalarType.Float32, torch.CPU);
    }
}
