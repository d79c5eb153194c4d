using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Frame features that can be read more than once, chunk by chunk, so PCA and k-means can fit a corpus that never sits
/// in memory. Implementations: <see cref="TensorFeatureSource"/> (in memory), <see cref="EnumerableFeatureSource"/>
/// (any re-enumerable sequence of chunks) and <see cref="FeatureShardSource"/> (the shard files of a
/// <see cref="FeatureDumper"/> run).
/// </summary>
public interface IFeatureSource
{
    /// <summary>Feature dimension D.</summary>
    int Dimension { get; }

    /// <summary>Total number of frames (rows) one pass yields.</summary>
    long Rows { get; }

    /// <summary>One pass over the frames in a fixed order, as float32 chunks <c>[rows, D]</c> on the CPU. The caller
    /// owns (disposes) every chunk. A chunk with NaN or infinite values throws <see cref="HArnessDataException"/>
    /// naming where it came from.</summary>
    IEnumerable<Tensor> ReadChunks(CancellationToken cancellationToken = default);
}
