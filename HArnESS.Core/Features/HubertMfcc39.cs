using static TorchSharp.torch;

namespace HArnESS.Features;

/// <summary>
/// HuBERT's iteration-1 clustering feature (fairseq <c>dump_mfcc_feature.py</c>): Kaldi MFCC with
/// <c>use_energy=False</c> (13 cepstra), then <c>compute_deltas</c> applied twice, concatenated to 39 dimensions
/// <c>[mfcc, Δ, ΔΔ]</c>.
/// </summary>
public sealed class HubertMfcc39 : WaveformFeatureExtractor
{
    private readonly Mfcc _mfcc;

    /// <summary>Creates the extractor; <paramref name="frame"/> defaults to 16 kHz Kaldi framing.</summary>
    public HubertMfcc39(FrameOptions? frame = null) =>
        _mfcc = new Mfcc(MfccOptions.Hubert with { Frame = frame ?? new FrameOptions() });

    /// <inheritdoc/>
    public override FrameOptions Frame => _mfcc.Frame;

    /// <summary>39 (13 cepstra × 3).</summary>
    public override int FeatureDim => _mfcc.FeatureDim * 3;

    /// <summary>Features of a padded batch: <c>[batch, time]</c> + <c>lengths [batch]</c> → <c>[batch, frames, 39]</c> and frame lengths.</summary>
    public override (Tensor Features, Tensor FrameLengths) Compute(Tensor waveforms, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        var (mfcc, frameLengths) = _mfcc.Compute(waveforms, lengths);
        var features = Deltas.Add(mfcc, frameLengths, order: 2, window: 2);
        return (features.MoveToOuterDisposeScope(), frameLengths.MoveToOuterDisposeScope());
    }
}
