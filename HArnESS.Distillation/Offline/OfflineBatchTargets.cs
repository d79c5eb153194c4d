using static TorchSharp.torch;

namespace HArnESS.Distillation.Offline;

/// <summary>What <see cref="OfflineTeacherTargets.Read"/> returns for one batch: one float32 target
/// <c>[B, T, D]</c> per requested teacher layer (zero past each row's frames) and the valid frames per row.
/// Disposing it disposes the tensors.</summary>
public sealed class OfflineBatchTargets : IDisposable
{
    internal OfflineBatchTargets(IReadOnlyList<Tensor> targets, Tensor frameLengths)
    {
        Targets = targets;
        FrameLengths = frameLengths;
    }

    /// <summary>One <c>[B, T, D]</c> float32 tensor per requested layer, in the order asked for.</summary>
    public IReadOnlyList<Tensor> Targets { get; }

    /// <summary>Valid teacher frames per row <c>[B]</c> int64 (the crop's frame count).</summary>
    public Tensor FrameLengths { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in Targets) t.Dispose();
        FrameLengths.Dispose();
    }
}
