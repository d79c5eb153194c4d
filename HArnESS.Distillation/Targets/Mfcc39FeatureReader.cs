using HArnESS.Data;
using HArnESS.Features;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// HuBERT iteration-1 features (fairseq <c>dump_mfcc_feature.py</c>): the whole utterance → Kaldi MFCC with
/// <c>use_energy=False</c> + Δ + ΔΔ = 39 dims (<see cref="HubertMfcc39"/>), computed on the padded batch (each row's
/// frames equal its single-utterance result). Like fairseq, utterances are not chunked (MFCC memory is small);
/// waveforms are floats in [-1, 1] at 16 kHz.
/// </summary>
public sealed class Mfcc39FeatureReader : IUtteranceFeatureReader
{
    private readonly HubertMfcc39 _mfcc = new();

    /// <inheritdoc/>
    public int Dimension => _mfcc.FeatureDim;

    /// <inheritdoc/>
    public string Description => "mfcc39(use_energy=false,deltas=2,window=2)";

    /// <inheritdoc/>
    public long FrameCount(long samples) => Math.Max(0, _mfcc.FrameCount(samples));

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> Read(AudioBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        var result = new Tensor[batch.Count];
        // Rows too short for one frame give no features; the others run as one batch.
        var rows = Enumerable.Range(0, batch.Count).Where(r => FrameCount(batch.LengthsArray[r]) > 0).ToArray();
        for (var r = 0; r < batch.Count; r++)
            if (FrameCount(batch.LengthsArray[r]) == 0) result[r] = empty(0, Dimension, ScalarType.Float32);
        if (rows.Length == 0) return result;
        using var scope = NewDisposeScope();
        var longest = rows.Max(r => batch.LengthsArray[r]);
        using var index = tensor(rows.Select(r => (long)r).ToArray());
        var waves = batch.Waveforms.index_select(0, index).narrow(1, 0, longest);
        var lengths = tensor(rows.Select(r => batch.LengthsArray[r]).ToArray());
        var (features, frames) = _mfcc.Compute(waves, lengths);
        var counts = frames.data<long>().ToArray();
        for (var k = 0; k < rows.Length; k++)
            result[rows[k]] = features[k].narrow(0, 0, counts[k]).to(ScalarType.Float32, CPU).contiguous().MoveToOuterDisposeScope();
        return result;
    }
}
