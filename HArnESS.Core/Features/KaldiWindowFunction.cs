using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Features;

/// <summary>Kaldi's window functions (<c>FeatureWindowFunction</c>), symmetric over <c>size</c> samples.</summary>
public static class KaldiWindowFunction
{
    /// <summary>The window as <c>float</c> values, computed in double precision.</summary>
    /// <exception cref="HArnessConfigException"><paramref name="size"/> &lt; 2 or an unknown window type.</exception>
    public static float[] Compute(KaldiWindowType type, int size, double blackmanCoefficient = 0.42)
    {
        if (size < 2) throw new HArnessConfigException($"A window needs at least 2 samples, got {size}.", "WindowSize");
        var w = new float[size];
        var a = 2.0 * Math.PI / (size - 1);
        for (var i = 0; i < size; i++)
        {
            var hann = 0.5 - 0.5 * Math.Cos(a * i);
            w[i] = (float)(type switch
            {
                KaldiWindowType.Hanning => hann,
                KaldiWindowType.Povey => Math.Pow(hann, 0.85),
                KaldiWindowType.Hamming => 0.54 - 0.46 * Math.Cos(a * i),
                KaldiWindowType.Rectangular => 1.0,
                KaldiWindowType.Blackman => blackmanCoefficient - 0.5 * Math.Cos(a * i) + (0.5 - blackmanCoefficient) * Math.Cos(2 * a * i),
                _ => throw new HArnessConfigException($"Unknown window type {type}.", "WindowType"),
            });
        }
        return w;
    }

    /// <summary>The cached window for <paramref name="options"/> on <paramref name="like"/>'s device and dtype, shape <c>[window]</c>.</summary>
    internal static Tensor Get(FrameOptions options, Tensor like) =>
        FeatureTensorCache.Get(
            FormattableString.Invariant($"window|{options.WindowType}|{options.WindowSize}|{options.BlackmanCoefficient:R}"), like,
            () => torch.tensor(Compute(options.WindowType, options.WindowSize, options.BlackmanCoefficient)));
}
