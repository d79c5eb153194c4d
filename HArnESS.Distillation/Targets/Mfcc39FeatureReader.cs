using HArnESS.Features;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// HuBERT iteration-1 features (fairseq <c>dump_mfcc_feature.py</c>): the whole file → Kaldi MFCC with
/// <c>use_energy=False</c> + Δ + ΔΔ = 39 dims (<see cref="HubertMfcc39"/>). Like fairseq, files are not chunked
/// (MFCC memory is small); waveforms are floats in [-1, 1] at 16 kHz.
/// </summary>
public sealed class Mfcc39FeatureReader : IUtteranceFeatureReader
{
    private readonly HubertMfcc39 _mfcc = new();

    /// <inheritdoc/>
    public int Dimension => _mfcc.FeatureDim;

    /// <inheritdoc/>
    public string Description => "mfcc39(use_energy=false,deltas=2,window=2)";

    /// <inheritdoc/>
    public Tensor Read(string path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        var wave = AudioInput.ReadMono(path);
        if (_mfcc.FrameCount(wave.shape[0]) < 1)
            return empty(0, Dimension, ScalarType.Float32).MoveToOuterDisposeScope();
        return _mfcc.Compute(wave).to(ScalarType.Float32, CPU).contiguous().MoveToOuterDisposeScope();
    }
}
