using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Padding-mask helpers shared by the heads. A padding mask is <c>[batch, frames]</c> bool with true at
/// padded frames, as <c>EncoderOutput.PaddingMask</c>; null means every frame is valid.</summary>
public static class PaddingMasks
{
    /// <summary>The padding mask of <paramref name="lengths"/> valid frames per row.</summary>
    /// <param name="lengths"><c>[batch]</c> int64 valid frames.</param>
    /// <param name="frames">Padded length.</param>
    /// <returns><c>[batch, frames]</c> bool, true = padding.</returns>
    public static Tensor FromLengths(Tensor lengths, long frames)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        using var scope = NewDisposeScope();
        return (Scalars.Arange(frames, device: lengths.device).unsqueeze(0) >= lengths.to_type(ScalarType.Int64).unsqueeze(1)).MoveToOuterDisposeScope();
    }

    /// <summary>Valid-frame weights <c>[batch, frames, 1]</c> in <paramref name="x"/>'s dtype (1 = valid, 0 = padding).</summary>
    /// <param name="x"><c>[batch, frames, dim]</c> features.</param>
    /// <param name="paddingMask">Padding mask or null.</param>
    /// <exception cref="ArgumentException">The shapes disagree, or a row has no valid frame (nothing to pool).</exception>
    public static Tensor ValidWeights(Tensor x, Tensor? paddingMask)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 3) throw new ArgumentException($"Expected [batch, frames, dim] features, got [{string.Join(", ", x.shape)}].", nameof(x));
        if (paddingMask is null) return ones(x.shape[0], x.shape[1], 1, dtype: x.dtype, device: x.device);
        if (paddingMask.dim() != 2 || paddingMask.shape[0] != x.shape[0] || paddingMask.shape[1] != x.shape[1])
            throw new ArgumentException(
                $"Expected a [{x.shape[0]}, {x.shape[1]}] padding mask, got [{string.Join(", ", paddingMask.shape)}].", nameof(paddingMask));
        using var scope = NewDisposeScope();
        var valid = paddingMask.logical_not().to_type(x.dtype).unsqueeze(-1);
        if (valid.sum(1).min().item<float>() <= 0)
            throw new ArgumentException("A row of the padding mask has no valid frame; every utterance needs at least one.", nameof(paddingMask));
        return valid.MoveToOuterDisposeScope();
    }
}
