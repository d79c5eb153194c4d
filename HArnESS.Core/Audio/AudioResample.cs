using static TorchSharp.torch;

namespace HArnESS.Audio;

/// <summary>One-call resampling of tensors and clips (see <see cref="Resampler"/> for the algorithm).</summary>
public static class AudioResample
{
    /// <summary>Resamples <paramref name="waveforms"/> from <paramref name="fromRate"/> to <paramref name="toRate"/> Hz.</summary>
    /// <param name="waveforms">Floating-point samples <c>[batch, time]</c> or <c>[..., time]</c>, on any device.</param>
    /// <param name="fromRate">Input sample rate.</param>
    /// <param name="toRate">Output sample rate.</param>
    /// <param name="options">Filter settings (torchaudio's defaults when null).</param>
    /// <returns><c>[batch, ceil(time * toRate / fromRate)]</c> on the input's device.</returns>
    /// <exception cref="HArnessConfigException">A rate or option is invalid, or the tensor is not floating point.</exception>
    public static Tensor Resample(Tensor waveforms, int fromRate, int toRate, ResamplerOptions? options = null)
    {
        using var resampler = new Resampler(fromRate, toRate, options);
        return resampler.Forward(waveforms);
    }

    /// <summary>Resamples every channel of a clip to <paramref name="toRate"/> Hz (on the CPU).</summary>
    /// <param name="clip">The audio.</param>
    /// <param name="toRate">Output sample rate.</param>
    /// <param name="options">Filter settings (torchaudio's defaults when null).</param>
    /// <returns>A new clip at <paramref name="toRate"/> with the same channels, or <paramref name="clip"/> itself when the rate already matches.</returns>
    public static AudioClip Resample(AudioClip clip, int toRate, ResamplerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(clip);
        if (clip.SampleRate == toRate) return clip;
        using var scope = NewDisposeScope();
        using var input = clip.ToTensor();
        var output = Resample(input, clip.SampleRate, toRate, options);
        return AudioClip.FromTensor(output, toRate);
    }

    /// <summary>Number of output samples for <paramref name="inputLength"/> input samples: <c>ceil(inputLength * toRate / fromRate)</c>.</summary>
    /// <param name="inputLength">Input samples per channel.</param>
    /// <param name="fromRate">Input sample rate.</param>
    /// <param name="toRate">Output sample rate.</param>
    public static long OutputLength(long inputLength, int fromRate, int toRate)
    {
        if (fromRate <= 0) throw new HArnessConfigException($"fromRate must be positive, got {fromRate}.", nameof(fromRate));
        if (toRate <= 0) throw new HArnessConfigException($"toRate must be positive, got {toRate}.", nameof(toRate));
        return Resampler.OutputLength(inputLength, fromRate, toRate);
    }

    /// <summary>Frees every cached filter bank (on all devices).</summary>
    public static void ClearKernelCache() => ResampleKernel.ClearCache();
}
