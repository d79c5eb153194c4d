using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>wav2vec2/HuBERT time-span masking (fairseq's <c>compute_mask_indices</c>, "static" spans, overlap
/// allowed), as torchaudio's <c>_compute_mask_indices</c>; checked statistically against torchaudio 0.13 by
/// <c>SpanMaskingReferenceTests</c>.</summary>
public static class SpanMasking
{
    /// <summary>Draws span masks. For each utterance with <c>n</c> valid frames,
    /// <c>max(minMasks, floor(maskProb * n / maskLength + u))</c> span starts (u ~ U[0,1), float32 as torchaudio adds
    /// it) are drawn without replacement from <c>[0, n - maskLength]</c> (when that range holds no more starts than
    /// the count, from <c>[0, count]</c>, as torchaudio does; starts past the row end mask nothing), each span covers
    /// <c>maskLength</c> frames clipped to <c>n</c>, and every row is then subsampled to the smallest count in the
    /// batch (as fairseq does) so rows mask equally many frames. Without <paramref name="lengths"/> one count is drawn
    /// for the whole batch (torchaudio without a padding mask); with it, one per row. Padded frames are never masked,
    /// and a row with no valid frame leaves the whole batch unmasked. The masked fraction is therefore at most about
    /// <c>maskProb</c> (spans overlap). A <paramref name="maskProb"/> of 0 masks nothing (torchaudio's
    /// <c>MaskGenerator</c> does not call the generator then).</summary>
    /// <param name="batch">Batch size.</param>
    /// <param name="frames">Frames per row (padded length).</param>
    /// <param name="lengths">Valid frames per row <c>[batch]</c> int64, or null when all are valid.</param>
    /// <param name="maskProb">Expected fraction of frames chosen as span starts × <paramref name="maskLength"/>.</param>
    /// <param name="maskLength">Span length in frames.</param>
    /// <param name="minMasks">Minimum number of spans per row.</param>
    /// <param name="generator">Random source (null: the global generator, seeded by <c>HArnessRuntime</c>).</param>
    /// <returns><c>[batch, frames]</c> bool, true = masked (on the CPU).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A probability or length is out of range.</exception>
    public static Tensor Compute(long batch, long frames, Tensor? lengths, double maskProb, int maskLength, int minMasks = 2,
        Generator? generator = null)
    {
        if (maskProb is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(maskProb), maskProb, "Must be in [0, 1].");
        if (maskLength <= 0) throw new ArgumentOutOfRangeException(nameof(maskLength), maskLength, "Must be positive.");
        if (minMasks < 0) throw new ArgumentOutOfRangeException(nameof(minMasks), minMasks, "Must be non-negative.");
        var valid = lengths is null
            ? Enumerable.Repeat(frames, (int)batch).ToArray()
            : lengths.to(CPU).to_type(ScalarType.Int64).data<long>().ToArray();
        var rows = new List<long[]>((int)batch);
        var batchCount = lengths is null && maskProb > 0 ? SpanCount(frames, maskProb, maskLength, minMasks, generator) : 0;
        for (var i = 0; i < batch; i++)
        {
            var sz = Math.Clamp(valid[i], 0, frames);
            if (sz <= 0 || maskProb <= 0) { rows.Add([]); continue; }
            var numMask = lengths is null ? batchCount : SpanCount(sz, maskProb, maskLength, minMasks, generator);
            long minLen = maskLength;
            // torchaudio: if sz - min_len <= num_mask: min_len = sz - num_mask - 1 (may go negative, so the start
            // range [0, sz - min_len) may reach past the row; such starts are dropped with the clipping below).
            if (sz - minLen <= numMask) minLen = sz - numMask - 1;
            using var perm = randperm(sz - minLen, generator: generator);
            var starts = perm.data<long>().Take(numMask);
            rows.Add(starts.SelectMany(s => Enumerable.Range(0, maskLength).Select(o => s + o))
                .Where(j => j < sz).Distinct().ToArray());
        }
        var minCount = rows.Count == 0 ? 0 : rows.Min(r => r.Length);
        var mask = new bool[batch * frames];
        for (var i = 0; i < rows.Count; i++)
        {
            var idx = rows[i];
            if (idx.Length > minCount)
            {
                using var perm = randperm(idx.Length, generator: generator);
                idx = perm.data<long>().Take(minCount).Select(p => idx[p]).ToArray();
            }
            foreach (var j in idx) mask[i * frames + j] = true;
        }
        return tensor(mask, [batch, frames]);
    }

    // int(mask_prob * sz / float(mask_length) + torch.rand(1)): a Python float plus a float32 tensor is float32.
    private static int SpanCount(long sz, double maskProb, int maskLength, int minMasks, Generator? generator)
    {
        using var u = rand(1, generator: generator);
        var x = (float)(maskProb * sz / maskLength) + u.item<float>();
        return Math.Max(minMasks, (int)x);
    }
}
