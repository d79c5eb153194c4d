using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>wav2vec2/HuBERT time-span masking (fairseq's <c>compute_mask_indices</c>, "static" spans, overlap
/// allowed), as torchaudio's <c>_compute_mask_indices</c>.</summary>
public static class SpanMasking
{
    /// <summary>Draws span masks. For each utterance with <c>n</c> valid frames,
    /// <c>max(minMasks, floor(maskProb * n / maskLength + u))</c> span starts (u ~ U[0,1)) are drawn without
    /// replacement from <c>[0, n - maskLength]</c>, each span covers <c>maskLength</c> frames clipped to <c>n</c>,
    /// and every row is then subsampled to the smallest count in the batch (as fairseq does) so rows mask equally
    /// many frames. Padded frames are never masked. The masked fraction is therefore at most about
    /// <c>maskProb</c> (spans overlap) and at least <c>maskLength / n</c> once a span is drawn.</summary>
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
        for (var i = 0; i < batch; i++)
        {
            var sz = Math.Min(valid[i], frames);
            if (sz <= 0 || maskProb <= 0) { rows.Add([]); continue; }
            using var u = rand(1, generator: generator);
            var numMask = Math.Max(minMasks, (int)(maskProb * sz / maskLength + u.item<float>()));
            var minLen = maskLength;
            if (sz - minLen <= numMask) minLen = (int)Math.Max(0, sz - numMask - 1);
            using var perm = randperm(Math.Max(1, sz - minLen), generator: generator);
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
}
