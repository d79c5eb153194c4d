using static TorchSharp.torch;
using HArnESS.Tensors;
using TorchSharp;

namespace HArnESS.Distillation.Losses;

/// <summary>HuBERT's cosine logits against a codebook: <c>cos(projected, e_k) / τ</c>, as torchaudio's
/// <c>LogitGenerator</c> and fairseq's <c>compute_nce</c> (whose duplicated positive is masked to −∞, so
/// cross-entropy over these K logits is the same loss).</summary>
public static class CodebookLogits
{
    /// <summary>Computes the logits.</summary>
    /// <param name="projected"><c>[..., finalDim]</c>: hidden states already through <c>final_proj</c>.</param>
    /// <param name="codebook"><c>[classes, finalDim]</c>.</param>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <param name="epsilon">Smallest vector norm (as <c>F.normalize</c>'s eps, 1e-8).</param>
    /// <returns><c>[..., classes]</c>.</returns>
    /// <exception cref="ArgumentException">The last dimensions differ or the codebook is not 2-D.</exception>
    public static Tensor Compute(Tensor projected, Tensor codebook, double temperature, double epsilon = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(projected);
        ArgumentNullException.ThrowIfNull(codebook);
        if (codebook.dim() != 2)
            throw new ArgumentException($"The codebook must be [classes, finalDim], got {FrameMasks.Shape(codebook)}.", nameof(codebook));
        if (projected.dim() < 1 || projected.shape[^1] != codebook.shape[1])
            throw new ArgumentException(
                $"Projected states end in {(projected.dim() < 1 ? 0 : projected.shape[^1])} features but the codebook has {codebook.shape[1]}.",
                nameof(projected));
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), $"Temperature must be positive, got {temperature}.");
        using var scope = NewDisposeScope();
        var p = nn.functional.normalize(projected, p: 2, dim: -1, eps: epsilon);
        var e = nn.functional.normalize(codebook.to(projected.dtype), p: 2, dim: -1, eps: epsilon);
        using var temperatureS = temperature.ToScalar();
        return matmul(p, e.t()).div(temperatureS).MoveToOuterDisposeScope();
    }
}
