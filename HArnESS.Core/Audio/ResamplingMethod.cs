namespace HArnESS.Audio;

/// <summary>Window of the band-limited sinc interpolation filter (torchaudio's <c>resampling_method</c>).</summary>
public enum ResamplingMethod
{
    /// <summary>Hann window (torchaudio's <c>sinc_interp_hann</c>, called <c>sinc_interpolation</c> in 0.13; the default).</summary>
    SincHann,
    /// <summary>Kaiser window with shape <see cref="ResamplerOptions.Beta"/> (torchaudio's <c>sinc_interp_kaiser</c> / <c>kaiser_window</c>).</summary>
    SincKaiser,
}
