namespace HArnESS.Audio;

/// <summary>Options of <see cref="WavReader"/>.</summary>
public sealed record WavReadOptions
{
    /// <summary>The defaults: keep all channels, reject truncated files.</summary>
    public static WavReadOptions Default { get; } = new();

    /// <summary>Average all channels into one (the returned clip has <c>Channels == 1</c>).</summary>
    public bool Mono { get; init; }

    /// <summary>
    /// Accept a file whose data chunk declares more bytes than the file holds (an interrupted recording, or a
    /// writer that streamed to a pipe) and read the whole frames that are there. Off by default: such a file is
    /// rejected with a <see cref="HArnessFormatException"/> saying how many bytes are present and declared.
    /// </summary>
    public bool AllowTruncated { get; init; }
}
