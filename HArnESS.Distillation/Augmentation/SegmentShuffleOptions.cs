namespace HArnESS.Distillation.Augmentation;

/// <summary>Options of <see cref="SegmentShuffler"/> (DistilXLSR's segment shuffling) and of the unsupervised
/// <see cref="EnergySegmenter"/> used when no alignment is given.</summary>
public sealed record SegmentShuffleOptions
{
    /// <summary>Sample rate of the audio in Hz (default 16 000), used to turn seconds into samples.</summary>
    public int SampleRate { get; init; } = Data.AudioDatasetOptions.DefaultSampleRate;

    /// <summary>Length of the linear cross-fade at each junction between two shuffled segments, in seconds
    /// (default 0.005 = 5 ms); 0 = butt joins. Shortened at a junction to the shorter neighbour's length.</summary>
    public double CrossFadeSeconds { get; init; } = 0.005;

    /// <summary>Shortest segment the energy segmenter makes, in seconds (default 0.05).</summary>
    public double MinSegmentSeconds { get; init; } = 0.05;

    /// <summary>Longest segment the energy segmenter makes, in seconds (default 0.25, about a syllable); at least
    /// twice <see cref="MinSegmentSeconds"/>.</summary>
    public double MaxSegmentSeconds { get; init; } = 0.25;

    /// <summary>Window of the short-time energy, in seconds (default 0.025).</summary>
    public double EnergyWindowSeconds { get; init; } = 0.025;

    /// <summary>Hop of the short-time energy, in seconds (default 0.01).</summary>
    public double EnergyHopSeconds { get; init; } = 0.01;

    /// <summary>How far an alignment may run past the end of the audio, in seconds, before it is an error (default
    /// 0.05); segments are clipped to the audio.</summary>
    public double AlignmentToleranceSeconds { get; init; } = 0.05;

    /// <summary>Throws <see cref="HArnessValidationException"/> listing every invalid option.</summary>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(SampleRate > 0, nameof(SampleRate), $"SampleRate must be positive, got {SampleRate}.");
        e.Require(CrossFadeSeconds >= 0 && double.IsFinite(CrossFadeSeconds), nameof(CrossFadeSeconds), $"CrossFadeSeconds must be at least 0, got {CrossFadeSeconds}.");
        e.Require(MinSegmentSeconds > 0 && double.IsFinite(MinSegmentSeconds), nameof(MinSegmentSeconds), $"MinSegmentSeconds must be positive, got {MinSegmentSeconds}.");
        e.Require(double.IsFinite(MaxSegmentSeconds) && MaxSegmentSeconds >= 2 * MinSegmentSeconds, nameof(MaxSegmentSeconds),
            $"MaxSegmentSeconds must be at least twice MinSegmentSeconds ({2 * MinSegmentSeconds}), got {MaxSegmentSeconds}.");
        e.Require(EnergyWindowSeconds > 0 && double.IsFinite(EnergyWindowSeconds), nameof(EnergyWindowSeconds), $"EnergyWindowSeconds must be positive, got {EnergyWindowSeconds}.");
        e.Require(EnergyHopSeconds > 0 && double.IsFinite(EnergyHopSeconds), nameof(EnergyHopSeconds), $"EnergyHopSeconds must be positive, got {EnergyHopSeconds}.");
        e.Require(AlignmentToleranceSeconds >= 0 && double.IsFinite(AlignmentToleranceSeconds), nameof(AlignmentToleranceSeconds),
            $"AlignmentToleranceSeconds must be at least 0, got {AlignmentToleranceSeconds}.");
        e.ThrowIfAny(nameof(SegmentShuffleOptions));
    }

    internal int Samples(double seconds) => (int)Math.Round(seconds * SampleRate);
}
