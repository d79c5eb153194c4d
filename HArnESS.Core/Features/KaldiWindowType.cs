namespace HArnESS.Features;

/// <summary>Window functions of Kaldi's <c>--window-type</c> (and <c>torchaudio.compliance.kaldi</c>'s <c>window_type</c>).</summary>
public enum KaldiWindowType
{
    /// <summary>Kaldi's default: a Hann window raised to the power 0.85, zero at both ends.</summary>
    Povey,

    /// <summary>Symmetric Hann window, <c>0.5 - 0.5 cos(2πn/(N-1))</c>.</summary>
    Hanning,

    /// <summary>Symmetric Hamming window, <c>0.54 - 0.46 cos(2πn/(N-1))</c>.</summary>
    Hamming,

    /// <summary>All ones.</summary>
    Rectangular,

    /// <summary>Generalised Blackman window with coefficient <see cref="FrameOptions.BlackmanCoefficient"/>.</summary>
    Blackman,
}
