namespace HArnESS.Distillation.Augmentation;

/// <summary>A span of a waveform in samples: <c>[Start, Start + Length)</c>.</summary>
/// <param name="Start">First sample.</param>
/// <param name="Length">Number of samples, at least 1.</param>
public readonly record struct SampleSegment(int Start, int Length)
{
    /// <summary>One past the last sample.</summary>
    public int End => Start + Length;
}
