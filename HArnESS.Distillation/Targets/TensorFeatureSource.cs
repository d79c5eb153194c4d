using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>An in-memory feature matrix <c>[rows, D]</c> viewed as a <see cref="IFeatureSource"/>.</summary>
public sealed class TensorFeatureSource : IFeatureSource
{
    private readonly Tensor _features;
    private readonly long _chunkRows;

    /// <summary>Wraps <paramref name="features"/> (not copied, not owned: the caller keeps it alive).</summary>
    /// <param name="features">float <c>[rows, D]</c>.</param>
    /// <param name="chunkRows">Rows per chunk a pass yields.</param>
    /// <param name="name">Name used in error messages.</param>
    /// <exception cref="HArnessDataException">Not a matrix, or it holds NaN/Inf (the message names the row).</exception>
    public TensorFeatureSource(Tensor features, long chunkRows = 65_536, string name = "features")
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2)
            throw new HArnessDataException($"{name}: expected a feature matrix [rows, dim], got [{string.Join(", ", features.shape)}].");
        if (chunkRows < 1) throw new HArnessConfigException($"chunkRows must be positive, got {chunkRows}.", nameof(chunkRows));
        var bad = FeatureChecks.FirstNonFiniteRow(features);
        if (bad >= 0) throw new HArnessDataException($"{name}: row {bad} holds NaN or infinite values.");
        _features = features;
        _chunkRows = chunkRows;
        Name = name;
    }

    /// <summary>Name used in error messages.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public int Dimension => (int)_features.shape[1];

    /// <inheritdoc/>
    public long Rows => _features.shape[0];

    /// <inheritdoc/>
    public IEnumerable<Tensor> ReadChunks(CancellationToken cancellationToken = default)
    {
        for (long start = 0; start < Rows; start += _chunkRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var len = Math.Min(_chunkRows, Rows - start);
            yield return _features.narrow(0, start, len).to(ScalarType.Float32, torch.CPU);
        }
    }
}
