using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>Shared checks on feature tensors (non-finite values, shapes).</summary>
internal static class FeatureChecks
{
    /// <summary>Returns the index of the first row holding NaN/Inf in a <c>[rows, D]</c> tensor, or -1.</summary>
    public static long FirstNonFiniteRow(Tensor features)
    {
        using var scope = NewDisposeScope();
        var bad = features.isfinite().logical_not().any(1);
        if (!bad.any().item<bool>()) return -1;
        return bad.nonzero()[0, 0].item<long>();
    }

    /// <summary>Throws when a chunk is not float32/float64 <c>[rows, dimension]</c>.</summary>
    public static void RequireMatrix(Tensor chunk, int dimension, string origin)
    {
        if (chunk.dim() != 2 || chunk.shape[1] != dimension)
            throw new HArnessDataException(
                $"{origin}: expected a feature chunk [rows, {dimension}], got [{string.Join(", ", chunk.shape)}].");
    }
}
