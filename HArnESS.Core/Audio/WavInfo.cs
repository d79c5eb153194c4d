namespace HArnESS.Audio;

/// <summary>
/// What the header of a WAV file says, checked against the file: enough to read any range of frames without
/// parsing the header again (<c>DataOffset + frame * BlockAlign</c>).
/// </summary>
public sealed record WavInfo
{
    /// <summary>Frames (samples per channel) per second.</summary>
    public required int SampleRate { get; init; }

    /// <summary>Number of interleaved channels (at least 1).</summary>
    public required int Channels { get; init; }

    /// <summary>Bits of one stored sample (the container size: 8, 16, 24, 32 or 64).</summary>
    public required int BitsPerSample { get; init; }

    /// <summary>Significant bits per sample (equals <see cref="BitsPerSample"/> unless WAVE_FORMAT_EXTENSIBLE says fewer).</summary>
    public int ValidBitsPerSample { get; init; }

    /// <summary>The sample encoding.</summary>
    public required WavSampleFormat Format { get; init; }

    /// <summary>Number of whole frames that can be read (for a truncated file read with
    /// <see cref="WavReadOptions.AllowTruncated"/>, the frames actually present).</summary>
    public required long Frames { get; init; }

    /// <summary>Byte offset of the first sample, from the start of the RIFF header (the start of the file, or the
    /// position the stream had when it was handed to the reader).</summary>
    public required long DataOffset { get; init; }

    /// <summary>Bytes per frame (<c>Channels * BitsPerSample / 8</c>).</summary>
    public int BlockAlign { get; init; }

    /// <summary>The raw format tag of the fmt chunk (1 = PCM, 3 = IEEE float, 0xFFFE = extensible).</summary>
    public int FormatTag { get; init; }

    /// <summary>True when the fmt chunk is WAVE_FORMAT_EXTENSIBLE (the codec comes from its sub-format GUID).</summary>
    public bool IsExtensible { get; init; }

    /// <summary>Speaker position mask of WAVE_FORMAT_EXTENSIBLE (0 otherwise).</summary>
    public uint ChannelMask { get; init; }

    /// <summary>Size of the data chunk as the header declares it, in bytes.</summary>
    public long DeclaredDataBytes { get; init; }

    /// <summary>True when the file holds fewer data bytes than declared (only possible with
    /// <see cref="WavReadOptions.AllowTruncated"/>).</summary>
    public bool IsTruncated { get; init; }

    /// <summary>Length of the audio.</summary>
    public TimeSpan Duration => TimeSpan.FromTicks((long)Math.Round((double)Frames * TimeSpan.TicksPerSecond / SampleRate));
}
