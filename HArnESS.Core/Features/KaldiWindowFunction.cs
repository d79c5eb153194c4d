using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Features;

/// <summary>Kaldi's window functions (<c>FeatureWindowFunction</c>), symmetric over <c>size</c> samples.</summary>
public static class KaldiWindowFunction
{
    /// <summary>
    /// The window <c>[size]</c> in <paramref name="dtype"/> on <paramref name="device"/>, computed with the same tensor
    /// arithmetic as torchaudio (in the target precision), so float32 windows agree with torchaudio's bit for bit or
    /// nearly: low-leakage windows on pure tones make the weakest mel bins sensitive to the window's last ulp.
    /// </summary>
    /// <exception cref="HArnessConfigException"><paramref name="size"/> &lt; 2 or an unknown window type.</exception>
    public static Tensor Create(KaldiWindowType type, int size, double blackmanCoefficient = 0.42,
        ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (size < 2) throw new HArnessConfigException($"A window needs at least 2 samples, got {size}.", "WindowSize");
        using var scope = NewDisposeScope();
        Tensor w = type switch
        {
            KaldiWindowType.Hanning => torch.hann_window(size, periodic: false, dtype: dtype, device: device),
            KaldiWindowType.Povey => torch.hann_window(size, periodic: false, dtype: dtype, device: device).pow(Scalars.Of(0.85)),
            KaldiWindowType.Hamming => torch.hamming_window(size, periodic: false, alpha: 0.54f, beta: 0.46f, dtype: dtype, device: device),
            KaldiWindowType.Rectangular => torch.ones(size, dtype: dtype, device: device),
            KaldiWindowType.Blackman => Blackman(size, blackmanCoefficient, dtype, device),
            _ => throw new HArnessConfigException($"Unknown window type {type}.", "WindowType"),
        };
        return w.MoveToOuterDisposeScope();
    }

    private static Tensor Blackman(int size, double coefficient, ScalarType dtype, Device? device)
    {
        var a = 2 * Math.PI / (size - 1);
        var n = Scalars.Arange(size, device: device, dtype: dtype);
        // coefficient - 0.5 cos(a n) + (0.5 - coefficient) cos(2 a n), in TorchSharp's operator order.
        using var aS = a.ToScalar();
        using var twoA = (2 * a).ToScalar();
        using var c = coefficient.ToScalar();
        using var c2 = (0.5 - coefficient).ToScalar();
        return torch.cos(n.mul(aS)).mul(Scalars.Of(0.5)).negative().add(c, Scalars.One).add(torch.cos(n.mul(twoA)).mul(c2), Scalars.One);
    }

    /// <summary>The cached window for <paramref name="options"/> on <paramref name="like"/>'s device and dtype, shape <c>[window]</c>.</summary>
    internal static Tensor Get(FrameOptions options, Tensor like) =>
        FeatureTensorCache.Get(
            FormattableString.Invariant($"window|{options.WindowType}|{options.WindowSize}|{options.BlackmanCoefficient:R}"), like,
            () => Create(options.WindowType, options.WindowSize, options.BlackmanCoefficient, like.dtype));
}
