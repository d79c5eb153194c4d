namespace HArnESS.Features;

/// <summary>
/// Options of <see cref="Mfcc"/>, named as <c>torchaudio.compliance.kaldi.mfcc</c>: 13 cepstra from 23 mel bins,
/// lifter 22. <see cref="UseEnergy"/> defaults to true as in Kaldi's <c>compute-mfcc-feats</c> (torchaudio's own
/// default is false); <see cref="Hubert"/> turns it off as HuBERT's MFCC recipe does.
/// </summary>
public sealed record MfccOptions
{
    /// <summary>Framing, windowing and FFT options.</summary>
    public FrameOptions Frame { get; init; } = new();

    /// <summary>Number of triangular mel bins (<c>num_mel_bins</c>). Default 23.</summary>
    public int NumMelBins { get; init; } = 23;

    /// <summary>Number of cepstra kept, C0 included (<c>num_ceps</c>). Default 13; at most <see cref="NumMelBins"/>.</summary>
    public int NumCeps { get; init; } = 13;

    /// <summary>Cepstral lifter <c>L</c> (coefficient i scaled by <c>1 + L/2 · sin(πi/L)</c>); 0 = none. Default 22.</summary>
    public double CepstralLifter { get; init; } = 22.0;

    /// <summary>Low cut-off of the mel bank in Hz. Default 20.</summary>
    public double LowFreq { get; init; } = 20.0;

    /// <summary>High cut-off in Hz; 0 means Nyquist and a negative value is an offset from Nyquist. Default 0.</summary>
    public double HighFreq { get; init; }

    /// <summary>Replace C0 by the log frame energy (Kaldi default true; HuBERT uses false).</summary>
    public bool UseEnergy { get; init; } = true;

    /// <summary>Energy from the frame before pre-emphasis and windowing (true, default) or after them.</summary>
    public bool RawEnergy { get; init; } = true;

    /// <summary>Floor on the energy (absolute); 0 disables it. Default 1.0 (torchaudio).</summary>
    public double EnergyFloor { get; init; } = 1.0;

    /// <summary>Put C0/energy last (scaled by √2 when it is C0), as HTK. Default false.</summary>
    public bool HtkCompat { get; init; }

    /// <summary>Subtract each utterance's per-column mean (over its own frames only). Default false.</summary>
    public bool SubtractMean { get; init; }

    /// <summary>VTLN warp factor; 1.0 (default) is no warping.</summary>
    public double VtlnWarp { get; init; } = 1.0;

    /// <summary>Low inflection point of the VTLN warping function in Hz. Default 100.</summary>
    public double VtlnLow { get; init; } = 100.0;

    /// <summary>High inflection point of the VTLN warping function in Hz (negative = offset from Nyquist). Default -500.</summary>
    public double VtlnHigh { get; init; } = -500.0;

    /// <summary>HuBERT's iteration-1 MFCC settings: torchaudio defaults with <see cref="UseEnergy"/> false.</summary>
    public static MfccOptions Hubert { get; } = new() { UseEnergy = false };

    /// <summary>Width of one output frame (<see cref="NumCeps"/>).</summary>
    public int FeatureDim => NumCeps;

    /// <summary>Checks every option; throws <see cref="HArnessConfigException"/> naming the first bad one.</summary>
    public void Validate()
    {
        ToFbankOptions().Validate();
        if (NumCeps < 1 || NumCeps > NumMelBins)
            throw new HArnessConfigException($"NumCeps must be in [1, NumMelBins = {NumMelBins}], got {NumCeps}.", nameof(NumCeps));
        if (!(CepstralLifter >= 0.0) || double.IsInfinity(CepstralLifter))
            throw new HArnessConfigException($"CepstralLifter must be >= 0 (0 = none), got {CepstralLifter}.", nameof(CepstralLifter));
    }

    /// <summary>The log-power filterbank these MFCCs are computed from (energy column included when <see cref="UseEnergy"/>).</summary>
    public FbankOptions ToFbankOptions() => new()
    {
        Frame = Frame,
        NumMelBins = NumMelBins,
        LowFreq = LowFreq,
        HighFreq = HighFreq,
        UseEnergy = UseEnergy,
        RawEnergy = RawEnergy,
        EnergyFloor = EnergyFloor,
        HtkCompat = false,
        UseLogFbank = true,
        UsePower = true,
        SubtractMean = false,
        VtlnWarp = VtlnWarp,
        VtlnLow = VtlnLow,
        VtlnHigh = VtlnHigh,
    };
}
