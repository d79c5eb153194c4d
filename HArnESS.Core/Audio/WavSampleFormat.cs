namespace HArnESS.Audio;

/// <summary>How samples are stored in the data chunk of a WAV file.</summary>
public enum WavSampleFormat
{
    /// <summary>8-bit unsigned integer PCM (128 = silence).</summary>
    Pcm8,
    /// <summary>16-bit signed little-endian PCM.</summary>
    Pcm16,
    /// <summary>24-bit signed little-endian PCM (3 bytes per sample).</summary>
    Pcm24,
    /// <summary>32-bit signed little-endian PCM.</summary>
    Pcm32,
    /// <summary>32-bit IEEE 754 float.</summary>
    Float32,
    /// <summary>64-bit IEEE 754 float.</summary>
    Float64,
}
