namespace HArnESS.Encoders;

/// <summary>Upper limits every encoder config is checked against before anything is allocated, so a config file
/// or tensor shapes cannot make the library build an enormous model. Each limit is several times the largest
/// published model (XLS-R 2B: 1920 wide, 48 layers, 7680 FFN, 16 heads, 512-channel CNN), so every real checkpoint
/// passes. <see cref="SpeechEncoderConfig.Validate()"/> refuses a value past a limit with
/// <see cref="HArnessValidationException"/> naming the option, the value and the limit.</summary>
public static class EncoderLimits
{
    /// <summary>Most transformer layers (published: 48).</summary>
    public const int MaxLayers = 256;

    /// <summary>Widest model, front-end output or projection (published: 1920).</summary>
    public const int MaxWidth = 8192;

    /// <summary>Widest feed-forward (published: 7680).</summary>
    public const int MaxIntermediateSize = 32768;

    /// <summary>Most attention heads (published: 16).</summary>
    public const int MaxHeads = 256;

    /// <summary>Most convolutions in a front-end stack (published: 7).</summary>
    public const int MaxConvLayers = 64;

    /// <summary>Most channels of one front-end convolution (published: 512; fairseq's subsampler: 1024).</summary>
    public const int MaxConvChannels = 8192;

    /// <summary>Widest front-end kernel or stride, in input frames or samples (published: 10 and 5).</summary>
    public const int MaxConvKernel = 1024;

    /// <summary>Widest positional-convolution kernel (published: 128).</summary>
    public const int MaxPosConvKernel = 1024;

    /// <summary>Most Mel bins of an fbank front-end (published: 80).</summary>
    public const int MaxMelBins = 1024;

    /// <summary>Most fbank frames stacked into one output frame.</summary>
    public const int MaxFbankStack = 64;

    /// <summary>Longest span mask and largest minimum span count, in frames.</summary>
    public const int MaxMaskLength = 100_000;

    /// <summary>Lowest and highest waveform sample rate in Hz.</summary>
    public const int MinSampleRate = 1000, MaxSampleRate = 384_000;

    /// <summary>Most parameters a config may describe (about 16 GB of float32; XLS-R 2B has 2.2 billion).</summary>
    public const long MaxParameters = 4_000_000_000;

    /// <summary>Adds an error to <paramref name="errors"/> when <paramref name="value"/> is outside [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <returns>True when the value is in range.</returns>
    internal static bool InRange(ValidationErrors errors, long value, long min, long max, string option)
    {
        if (value >= min && value <= max) return true;
        errors.Add(option, max == long.MaxValue
            ? $"{option} must be at least {min}, got {value}."
            : $"{option} must be in [{min}, {max}], got {value}.");
        return false;
    }
}
