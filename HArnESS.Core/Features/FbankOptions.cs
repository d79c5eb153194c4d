namespace HArnESS.Features;

/// <summary>
/// Options of <see cref="Fbank"/>, named and defaulted as <c>torchaudio.compliance.kaldi.fbank</c> (Kaldi's
/// <c>compute-fbank-feats</c>): 23 mel bins from 20 Hz to Nyquist, log power, energy floor 1, no energy column.
/// <see cref="Default80"/> is the 80-bin variant speech models use.
/// </summary>
public sealed record FbankOptions
{
    /// <summary>Framing, windowing and FFT options.</summary>
    public FrameOptions Frame { get; init; } = new();

    /// <summary>Number of triangular mel bins (<c>num_mel_bins</c>). Default 23 (torchaudio/Kaldi).</summary>
    public int NumMelBins { get; init; } = 23;

    /// <summary>Low cut-off of the mel bank in Hz (<c>low_freq</c>). Default 20.</summary>
    public double LowFreq { get; init; } = 20.0;

    /// <summary>High cut-off in Hz (<c>high_freq</c>); 0 means Nyquist and a negative value is an offset from Nyquist. Default 0.</summary>
    public double HighFreq { get; init; }

    /// <summary>Prepend (or, with <see cref="HtkCompat"/>, append) the log frame energy as an extra column. Default false.</summary>
    public bool UseEnergy { get; init; }

    /// <summary>Energy from the frame before pre-emphasis and windowing (true, default) or after them.</summary>
    public bool RawEnergy { get; init; } = true;

    /// <summary>Floor on the energy column (absolute, not log); 0 disables it. Default 1.0 (torchaudio).</summary>
    public double EnergyFloor { get; init; } = 1.0;

    /// <summary>Put the energy column last instead of first. Default false.</summary>
    public bool HtkCompat { get; init; }

    /// <summary>Natural log of the mel energies (true, default) or the linear energies.</summary>
    public bool UseLogFbank { get; init; } = true;

    /// <summary>Power spectrum (true, default) or magnitude spectrum.</summary>
    public bool UsePower { get; init; } = true;

    /// <summary>Subtract each utterance's per-column mean (over its own frames only). Default false.</summary>
    public bool SubtractMean { get; init; }

    /// <summary>VTLN warp factor; 1.0 (default) is no warping.</summary>
    public double VtlnWarp { get; init; } = 1.0;

    /// <summary>Low inflection point of the VTLN warping function in Hz. Default 100.</summary>
    public double VtlnLow { get; init; } = 100.0;

    /// <summary>High inflection point of the VTLN warping function in Hz (negative = offset from Nyquist). Default -500.</summary>
    public double VtlnHigh { get; init; } = -500.0;

    /// <summary>torchaudio defaults with 80 mel bins.</summary>
    public static FbankOptions Default80 { get; } = new() { NumMelBins = 80 };

    /// <summary>Width of one output frame: <see cref="NumMelBins"/> plus one when <see cref="UseEnergy"/>.</summary>
    public int FeatureDim => NumMelBins + (UseEnergy ? 1 : 0);

    /// <summary>Checks every option, the mel bank included; throws <see cref="HArnessConfigException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Frame is null) throw new HArnessConfigException("Frame options must not be null.", nameof(Frame));
        Frame.Validate();
        if (!(EnergyFloor >= 0.0) || double.IsInfinity(EnergyFloor))
            throw new HArnessConfigException($"EnergyFloor must be >= 0 (0 = none), got {EnergyFloor}.", nameof(EnergyFloor));
        // Building the bank validates bin count, frequency range and VTLN settings (it is cached, so this is cheap).
        MelBanks.GetCached(this);
    }
}
