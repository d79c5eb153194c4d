namespace HArnESS.Features;

/// <summary>Kaldi's frame arithmetic (<c>NumFrames</c> in <c>feature-window.cc</c>).</summary>
public static class KaldiFrames
{
    /// <summary>
    /// Number of frames Kaldi produces for <paramref name="samples"/> samples: with snip edges
    /// <c>samples &lt; window ? 0 : 1 + (samples - window) / shift</c>, otherwise <c>(samples + shift / 2) / shift</c>.
    /// </summary>
    /// <exception cref="HArnessConfigException">The options are invalid or <paramref name="samples"/> is negative.</exception>
    public static long Count(long samples, FrameOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (samples < 0) throw new HArnessConfigException($"samples must be >= 0, got {samples}.", nameof(samples));
        long window = options.WindowSize, shift = options.WindowShift;
        if (options.SnipEdges) return samples < window ? 0 : 1 + (samples - window) / shift;
        return (samples + shift / 2) / shift;
    }

    /// <summary>Number of frames an <see cref="Fbank"/> with <paramref name="options"/> produces for <paramref name="samples"/> samples.</summary>
    public static long Count(long samples, FbankOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Count(samples, options.Frame);
    }

    /// <summary>Number of frames an <see cref="Mfcc"/> with <paramref name="options"/> produces for <paramref name="samples"/> samples.</summary>
    public static long Count(long samples, MfccOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Count(samples, options.Frame);
    }
}
