using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Features;

/// <summary>
/// Delta features as <c>torchaudio.functional.compute_deltas</c> (and Kaldi's <c>add-deltas</c> for interior frames):
/// <c>d_t = Σ_{n=1..N} n (c_{t+n} - c_{t-n}) / (2 Σ n²)</c> with the edge frames replicated. Higher orders apply
/// the same filter again to the previous order (HuBERT's recipe); on the first and last N·order frames this differs
/// slightly from Kaldi's single convolved filter.
/// </summary>
public static class Deltas
{
    /// <summary>Deltas of <c>features [..., frames, dim]</c> along the frame axis, same shape.</summary>
    /// <param name="features">Features, frames on the second-to-last axis.</param>
    /// <param name="window">N, the half-width (2 = torchaudio's <c>win_length</c> 5, Kaldi's <c>--delta-window 2</c>).</param>
    /// <exception cref="HArnessConfigException">Fewer than 2 dimensions or <paramref name="window"/> &lt; 1.</exception>
    public static Tensor Compute(Tensor features, int window = 2)
    {
        Check(features, window);
        using var scope = NewDisposeScope();
        var frames = features.shape[^2];
        var t = Scalars.Arange(frames, device: features.device);
        var acc = torch.zeros_like(features);
        using var lastFrame = Math.Max(frames - 1, 0).ToScalar();
        for (var n = 1; n <= window; n++)
        {
            using var offset = n.ToScalar();
            var ahead = features.index_select(-2, t.add(offset, Scalars.One).clamp_max(lastFrame));
            var behind = features.index_select(-2, t.sub(offset).clamp_min(Scalars.Zero));
            acc = acc.add((ahead - behind).mul(offset), Scalars.One);
        }
        using var denominator = Denominator(window).ToScalar();
        return acc.div(denominator).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Deltas of a padded batch <c>features [batch, frames, dim]</c> whose utterance i has <c>lengths[i]</c> frames: edges
    /// replicate each utterance's own last frame, so results equal the single-utterance ones; padded frames are zero.
    /// </summary>
    /// <exception cref="HArnessConfigException">Shapes or lengths are inconsistent, or <paramref name="window"/> &lt; 1.</exception>
    public static Tensor Compute(Tensor features, Tensor lengths, int window = 2)
    {
        CheckBatched(features, window);
        var lens = FeatureBatching.ReadLengths(lengths, features.shape[0], features.shape[1], "frames");
        using var scope = NewDisposeScope();
        long batch = features.shape[0], frames = features.shape[1], dim = features.shape[2];
        var t = Scalars.Arange(frames, device: features.device).unsqueeze(0);                    // [1, F]
        var last = torch.tensor(lens, device: features.device).sub(Scalars.One).clamp_min(Scalars.Zero).unsqueeze(1); // [B, 1]
        var acc = torch.zeros_like(features);
        for (var n = 1; n <= window; n++)
        {
            using var offset = n.ToScalar();
            var ahead = torch.minimum(t.add(offset, Scalars.One), last).expand(batch, frames).unsqueeze(-1).expand(batch, frames, dim);
            var behind = torch.minimum(t.sub(offset).clamp_min(Scalars.Zero), last).expand(batch, frames).unsqueeze(-1).expand(batch, frames, dim);
            acc = acc.add((features.gather(1, ahead) - features.gather(1, behind)).mul(offset), Scalars.One);
        }
        var valid = FeatureBatching.ValidMask(lens, frames, features.device);
        using var denominator = Denominator(window).ToScalar();
        return FeatureBatching.FinishPadded(acc.div(denominator), valid, lens, false).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>[x, Δx, ΔΔx, …]</c> concatenated on the last axis: <c>[..., frames, dim]</c> → <c>[..., frames, dim·(order+1)]</c>.
    /// </summary>
    /// <exception cref="HArnessConfigException"><paramref name="order"/> &lt; 0 or <paramref name="window"/> &lt; 1.</exception>
    public static Tensor Add(Tensor features, int order = 2, int window = 2) => AddCore(features, order, window, x => Compute(x, window));

    /// <summary>As <see cref="Add(Tensor, int, int)"/> for a padded batch <c>[batch, frames, dim]</c> with <c>lengths [batch]</c> (in frames).</summary>
    /// <remarks>Padded frames of every block, the copied input included, are zero.</remarks>
    public static Tensor Add(Tensor features, Tensor lengths, int order = 2, int window = 2)
    {
        CheckBatched(features, window);
        using var scope = NewDisposeScope();
        var lens = FeatureBatching.ReadLengths(lengths, features.shape[0], features.shape[1], "frames");
        var valid = FeatureBatching.ValidMask(lens, features.shape[1], features.device);
        var clean = FeatureBatching.FinishPadded(features, valid, lens, false);
        return AddCore(clean, order, window, x => Compute(x, lengths, window)).MoveToOuterDisposeScope();
    }

    private static Tensor AddCore(Tensor features, int order, int window, Func<Tensor, Tensor> delta)
    {
        Check(features, window);
        if (order < 0) throw new HArnessConfigException($"order must be >= 0, got {order}.", nameof(order));
        using var scope = NewDisposeScope();
        var parts = new List<Tensor> { features };
        for (var o = 0; o < order; o++) parts.Add(delta(parts[^1]));
        return torch.cat(parts, -1).MoveToOuterDisposeScope();
    }

    private static double Denominator(int window) => window * (window + 1) * (2.0 * window + 1) / 3.0;

    private static void CheckBatched(Tensor features, int window)
    {
        Check(features, window);
        if (features.dim() != 3)
            throw new HArnessConfigException($"features must be [batch, frames, dim]; got shape [{string.Join(", ", features.shape)}].", nameof(features));
    }

    private static void Check(Tensor features, int window)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() < 2)
            throw new HArnessConfigException($"features must be [..., frames, dim]; got shape [{string.Join(", ", features.shape)}].", nameof(features));
        if (window < 1) throw new HArnessConfigException($"window (N) must be >= 1, got {window}.", nameof(window));
    }
}
