namespace HArnESS.Features;

/// <summary>
/// How a waveform is cut into windowed frames, exactly as Kaldi's <c>FrameExtractionOptions</c> and
/// <c>torchaudio.compliance.kaldi</c> (defaults are theirs: 16 kHz, 25 ms windows every 10 ms, snip edges, remove DC,
/// pre-emphasis 0.97, povey window, FFT size rounded up to a power of two, no dither).
/// </summary>
public sealed record FrameOptions
{
    /// <summary>Sample rate of the waveforms in Hz (<c>sample_frequency</c>). Default 16000.</summary>
    public double SampleRate { get; init; } = Data.AudioDatasetOptions.DefaultSampleRate;

    /// <summary>Frame (window) length in milliseconds (<c>frame_length</c>). Default 25.</summary>
    public double FrameLengthMs { get; init; } = 25.0;

    /// <summary>Frame shift in milliseconds (<c>frame_shift</c>). Default 10.</summary>
    public double FrameShiftMs { get; init; } = 10.0;

    /// <summary>
    /// True: only frames that fit completely in the signal (<c>1 + (n - window) / shift</c> frames). False: the frame
    /// count depends only on the shift (<c>(n + shift/2) / shift</c>) and the signal is reflected at both ends, as Kaldi.
    /// Default true.
    /// </summary>
    public bool SnipEdges { get; init; } = true;

    /// <summary>Standard deviation of Gaussian dither added to every sample of every frame; 0 = off (default).</summary>
    public double Dither { get; init; }

    /// <summary>
    /// Seed of the dither noise. Null draws from libtorch's global CPU generator; a value gives every extractor
    /// instance its own generator, so runs repeat (the noise is drawn on the CPU, so it is the same on every device).
    /// </summary>
    public long? DitherSeed { get; init; }

    /// <summary>Pre-emphasis coefficient in [0, 1] (<c>x[j] -= c·x[j-1]</c>, with <c>x[-1] = x[0]</c>). Default 0.97.</summary>
    public double PreemphasisCoefficient { get; init; } = 0.97;

    /// <summary>Subtract each frame's mean before everything else (<c>remove_dc_offset</c>). Default true.</summary>
    public bool RemoveDcOffset { get; init; } = true;

    /// <summary>Window function. Default <see cref="KaldiWindowType.Povey"/>.</summary>
    public KaldiWindowType WindowType { get; init; } = KaldiWindowType.Povey;

    /// <summary>Coefficient of the generalised Blackman window (<c>blackman_coeff</c>). Default 0.42.</summary>
    public double BlackmanCoefficient { get; init; } = 0.42;

    /// <summary>Zero-pad each frame to the next power of two before the FFT. Default true.</summary>
    public bool RoundToPowerOfTwo { get; init; } = true;

    /// <summary>Samples per frame, <c>int(SampleRate · FrameLengthMs · 0.001)</c> (400 at the defaults).</summary>
    public int WindowSize => (int)(SampleRate * FrameLengthMs * 0.001);

    /// <summary>Samples between frame starts, <c>int(SampleRate · FrameShiftMs · 0.001)</c> (160 at the defaults).</summary>
    public int WindowShift => (int)(SampleRate * FrameShiftMs * 0.001);

    /// <summary>FFT length: <see cref="WindowSize"/> rounded up to a power of two when <see cref="RoundToPowerOfTwo"/> (512 at the defaults).</summary>
    public int PaddedWindowSize => RoundToPowerOfTwo ? NextPowerOfTwo(WindowSize) : WindowSize;

    /// <summary>Checks every option; throws <see cref="HArnessConfigException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (!(SampleRate > 0) || double.IsInfinity(SampleRate))
            throw new HArnessConfigException($"SampleRate must be a positive number of Hz, got {SampleRate}.", nameof(SampleRate));
        if (!(FrameLengthMs > 0) || double.IsInfinity(FrameLengthMs))
            throw new HArnessConfigException($"FrameLengthMs must be positive, got {FrameLengthMs}.", nameof(FrameLengthMs));
        if (!(FrameShiftMs > 0) || double.IsInfinity(FrameShiftMs))
            throw new HArnessConfigException($"FrameShiftMs must be positive, got {FrameShiftMs}.", nameof(FrameShiftMs));
        if (WindowSize < 2)
            throw new HArnessConfigException(
                $"FrameLengthMs {FrameLengthMs} at {SampleRate} Hz gives a window of {WindowSize} samples; at least 2 are needed.",
                nameof(FrameLengthMs));
        if (WindowShift < 1)
            throw new HArnessConfigException(
                $"FrameShiftMs {FrameShiftMs} at {SampleRate} Hz gives a shift of {WindowShift} samples; at least 1 is needed.",
                nameof(FrameShiftMs));
        if (PaddedWindowSize % 2 != 0)
            throw new HArnessConfigException(
                $"The FFT length {PaddedWindowSize} must be even; set RoundToPowerOfTwo or change FrameLengthMs.",
                nameof(RoundToPowerOfTwo));
        if (!(PreemphasisCoefficient >= 0.0 && PreemphasisCoefficient <= 1.0))
            throw new HArnessConfigException(
                $"PreemphasisCoefficient must be in [0, 1], got {PreemphasisCoefficient}.", nameof(PreemphasisCoefficient));
        if (!(Dither >= 0.0) || double.IsInfinity(Dither))
            throw new HArnessConfigException($"Dither must be >= 0 (0 = off), got {Dither}.", nameof(Dither));
        if (!Enum.IsDefined(WindowType))
            throw new HArnessConfigException($"WindowType {(int)WindowType} is not a known window.", nameof(WindowType));
        if (double.IsNaN(BlackmanCoefficient) || double.IsInfinity(BlackmanCoefficient))
            throw new HArnessConfigException($"BlackmanCoefficient must be finite, got {BlackmanCoefficient}.", nameof(BlackmanCoefficient));
    }

    private static int NextPowerOfTwo(int x)
    {
        var p = 1;
        while (p < x) p <<= 1;
        return p;
    }
}
