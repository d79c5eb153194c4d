using static TorchSharp.torch;

namespace HArnESS.Features;

/// <summary>A waveform-to-frames feature computation (<see cref="Fbank"/>, <see cref="Mfcc"/>, <see cref="HubertMfcc39"/>).</summary>
public interface IFeatureExtractor
{
    /// <summary>Framing options (sample rate, window, shift, edges).</summary>
    FrameOptions Frame { get; }

    /// <summary>Width of one output frame.</summary>
    int FeatureDim { get; }

    /// <summary>Number of frames produced for <paramref name="samples"/> samples (see <see cref="KaldiFrames.Count(long, FrameOptions)"/>).</summary>
    long FrameCount(long samples);

    /// <summary>Features of one utterance: waveform <c>[time]</c> → <c>[frames, dim]</c> on the waveform's device.</summary>
    Tensor Compute(Tensor waveform);

    /// <summary>
    /// Features of a padded batch: waveforms <c>[batch, time]</c> with <c>lengths [batch]</c> → features
    /// <c>[batch, frames, dim]</c> (padded frames are zero) and <c>FrameLengths [batch]</c> (int64).
    /// </summary>
    (Tensor Features, Tensor FrameLengths) Compute(Tensor waveforms, Tensor lengths);
}
