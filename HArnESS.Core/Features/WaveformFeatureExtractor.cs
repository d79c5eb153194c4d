using static TorchSharp.torch;

namespace HArnESS.Features;

/// <summary>
/// Base of the Kaldi-style extractors: the single-utterance call and the frame arithmetic are the batched computation
/// on a batch of one, so every extractor agrees with itself between the two.
/// </summary>
public abstract class WaveformFeatureExtractor : IFeatureExtractor
{
    /// <inheritdoc/>
    public abstract FrameOptions Frame { get; }

    /// <inheritdoc/>
    public abstract int FeatureDim { get; }

    /// <inheritdoc/>
    public long FrameCount(long samples) => KaldiFrames.Count(samples, Frame);

    /// <summary>Features of one utterance: waveform <c>[time]</c> (or <c>[1, time]</c>) → <c>[frames, FeatureDim]</c>.</summary>
    /// <exception cref="HArnessConfigException">The waveform is not 1-D (or <c>[1, time]</c>) or not floating point.</exception>
    /// <exception cref="HArnessDataException">The waveform is too short for one frame.</exception>
    public Tensor Compute(Tensor waveform)
    {
        using var scope = NewDisposeScope();
        var batch = FeatureBatching.SingleAsBatch(waveform);
        var (features, _) = Compute(batch, tensor(new[] { batch.shape[1] }));
        return features.squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Features of a padded batch: <c>waveforms [batch, time]</c>, <c>lengths [batch]</c> → features
    /// <c>[batch, frames, FeatureDim]</c> where each utterance's frames equal its single-utterance result and padded
    /// frames are zero, and <c>FrameLengths [batch]</c> (int64, on the waveforms' device).
    /// </summary>
    /// <exception cref="HArnessConfigException">Shapes, dtypes or lengths are inconsistent.</exception>
    /// <exception cref="HArnessDataException">An utterance is too short for one frame.</exception>
    public abstract (Tensor Features, Tensor FrameLengths) Compute(Tensor waveforms, Tensor lengths);
}
