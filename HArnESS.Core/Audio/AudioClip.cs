using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Audio;

/// <summary>
/// A piece of audio in memory: interleaved float samples (nominally in [-1, 1]) with a sample rate and a channel
/// count. Immutable by convention: methods return new clips and never change <see cref="Samples"/>.
/// </summary>
public sealed class AudioClip
{
    /// <summary>Wraps interleaved samples (frame 0 channel 0, frame 0 channel 1, …). The array is used, not copied.</summary>
    /// <param name="samples">Interleaved samples; the length must be a multiple of <paramref name="channels"/>.</param>
    /// <param name="sampleRate">Frames per second (positive).</param>
    /// <param name="channels">Number of channels (positive).</param>
    /// <exception cref="HArnessConfigException">A rate or channel count is not positive, or the sample count is not a whole number of frames.</exception>
    public AudioClip(float[] samples, int sampleRate, int channels = 1)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (sampleRate <= 0)
            throw new HArnessConfigException($"sampleRate must be positive, got {sampleRate}.", nameof(sampleRate));
        if (channels <= 0)
            throw new HArnessConfigException($"channels must be positive, got {channels}.", nameof(channels));
        if (samples.Length % channels != 0)
            throw new HArnessConfigException(
                $"samples has {samples.Length} values, which is not a whole number of frames of {channels} channels.", nameof(samples));
        Samples = samples;
        SampleRate = sampleRate;
        Channels = channels;
    }

    /// <summary>Frames (samples per channel) per second.</summary>
    public int SampleRate { get; }

    /// <summary>Number of interleaved channels.</summary>
    public int Channels { get; }

    /// <summary>Number of frames (samples per channel).</summary>
    public long Frames => Samples.Length / Channels;

    /// <summary>Interleaved samples, <c>Frames * Channels</c> values.</summary>
    public float[] Samples { get; }

    /// <summary>Length of the clip.</summary>
    public TimeSpan Duration => TimeSpan.FromTicks((long)Math.Round((double)Frames * TimeSpan.TicksPerSecond / SampleRate));

    /// <summary>The clip with all channels averaged into one (this clip itself when it is already mono).</summary>
    public AudioClip ToMono()
    {
        if (Channels == 1) return this;
        return new AudioClip(Downmix(Samples, Channels), SampleRate, 1);
    }

    /// <summary>The samples of one channel.</summary>
    /// <param name="channel">Zero-based channel index.</param>
    /// <exception cref="HArnessConfigException">The index is outside [0, Channels).</exception>
    public float[] GetChannel(int channel)
    {
        if ((uint)channel >= (uint)Channels)
            throw new HArnessConfigException($"channel must be in [0, {Channels}), got {channel}.", nameof(channel));
        var result = new float[Frames];
        for (long f = 0, i = channel; f < result.Length; f++, i += Channels) result[f] = Samples[i];
        return result;
    }

    /// <summary>The samples as a float32 CPU tensor <c>[channels, frames]</c>.</summary>
    public Tensor ToTensor()
    {
        HArnessRuntime.EnsureInitialized();
        using var interleaved = torch.tensor(Samples, [Frames, Channels], ScalarType.Float32);
        return Channels == 1 ? interleaved.reshape(1, Frames) : interleaved.t().contiguous();
    }

    /// <summary>Builds a clip from a tensor <c>[channels, frames]</c> or <c>[frames]</c> (mono), on any device and floating dtype.</summary>
    /// <param name="waveform">The samples, <c>[channels, frames]</c> or <c>[frames]</c>.</param>
    /// <param name="sampleRate">Frames per second.</param>
    /// <exception cref="HArnessConfigException">The tensor is not 1-D or 2-D.</exception>
    public static AudioClip FromTensor(Tensor waveform, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(waveform);
        if (waveform.dim() is not (1 or 2))
            throw new HArnessConfigException(
                $"waveform must be [channels, frames] or [frames], got shape [{string.Join(", ", waveform.shape)}].", nameof(waveform));
        using var scope = torch.NewDisposeScope();
        var t = waveform.dim() == 1 ? waveform.unsqueeze(0) : waveform;
        var channels = (int)t.shape[0];
        var interleaved = t.detach().to(ScalarType.Float32).cpu().t().contiguous();
        return new AudioClip(interleaved.data<float>().ToArray(), sampleRate, channels);
    }

    /// <inheritdoc/>
    public override string ToString() => $"AudioClip({Frames} frames, {Channels} ch, {SampleRate} Hz, {Duration.TotalSeconds:0.###} s)";

    internal static float[] Downmix(float[] interleaved, int channels)
    {
        var frames = interleaved.Length / channels;
        var mono = new float[frames];
        for (int f = 0, i = 0; f < frames; f++)
        {
            double sum = 0;
            for (var c = 0; c < channels; c++, i++) sum += interleaved[i];
            mono[f] = (float)(sum / channels);
        }
        return mono;
    }
}
