namespace HArnESS.Audio;

/// <summary>
/// Filter settings of <see cref="Resampler"/>, with torchaudio's <c>functional.resample</c> defaults, so the same
/// settings give the same output (to float rounding).
/// </summary>
public sealed record ResamplerOptions
{
    /// <summary>torchaudio's default Kaiser shape, used when <see cref="Beta"/> is not set.</summary>
    public const double DefaultKaiserBeta = 14.769656459379492;

    /// <summary>The defaults: Hann window, 6 zero crossings, roll-off 0.99.</summary>
    public static ResamplerOptions Default { get; } = new();

    /// <summary>librosa's <c>kaiser_fast</c> as torchaudio spells it: Kaiser window, 16 zero crossings, roll-off 0.85, beta 8.555.</summary>
    public static ResamplerOptions KaiserFast { get; } = new()
    {
        LowpassFilterWidth = 16,
        Rolloff = 0.85,
        Method = ResamplingMethod.SincKaiser,
        Beta = 8.555504641634386,
    };

    /// <summary>librosa's <c>kaiser_best</c> as torchaudio spells it: Kaiser window, 64 zero crossings, roll-off 0.9476, beta 14.77
    /// (strong anti-aliasing; about ten times the taps of <see cref="Default"/>).</summary>
    public static ResamplerOptions KaiserBest { get; } = new()
    {
        LowpassFilterWidth = 64,
        Rolloff = 0.9475937167399596,
        Method = ResamplingMethod.SincKaiser,
        Beta = DefaultKaiserBeta,
    };

    /// <summary>Zero crossings of the sinc kept on each side; more is sharper and slower (default 6).</summary>
    public int LowpassFilterWidth { get; init; } = 6;

    /// <summary>Cut-off as a fraction of the lower Nyquist frequency, in (0, 1] (default 0.99). Lower values alias
    /// less but remove more of the top of the band.</summary>
    public double Rolloff { get; init; } = 0.99;

    /// <summary>The filter window (default Hann).</summary>
    public ResamplingMethod Method { get; init; } = ResamplingMethod.SincHann;

    /// <summary>Kaiser window shape (only for <see cref="ResamplingMethod.SincKaiser"/>; default <see cref="DefaultKaiserBeta"/>).</summary>
    public double? Beta { get; init; }

    /// <summary>Checks every option.</summary>
    /// <exception cref="HArnessConfigException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (LowpassFilterWidth <= 0)
            throw new HArnessConfigException($"LowpassFilterWidth must be positive, got {LowpassFilterWidth}.", nameof(LowpassFilterWidth));
        if (!(Rolloff > 0 && Rolloff <= 1))
            throw new HArnessConfigException($"Rolloff must be in (0, 1], got {Rolloff}.", nameof(Rolloff));
        if (Beta is { } b && !(b >= 0 && double.IsFinite(b)))
            throw new HArnessConfigException($"Beta must be a finite non-negative number, got {b}.", nameof(Beta));
        if (!Enum.IsDefined(Method))
            throw new HArnessConfigException($"Method {Method} is not a ResamplingMethod.", nameof(Method));
    }
}
