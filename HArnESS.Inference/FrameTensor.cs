namespace HArnESS.Inference;

/// <summary>A float tensor <c>[batch, frames, dim]</c> in row-major order, as the model returned it (padded frames
/// included; use the frame lengths to ignore them).</summary>
public sealed class FrameTensor
{
    /// <summary>Wraps data; <paramref name="data"/> must hold <c>batch·frames·dim</c> values.</summary>
    /// <exception cref="ArgumentException">The sizes disagree.</exception>
    public FrameTensor(float[] data, int batch, int frames, int dim)
    {
        ArgumentNullException.ThrowIfNull(data);
        if ((long)batch * frames * dim != data.Length)
            throw new ArgumentException($"Expected {batch}·{frames}·{dim} values, got {data.Length}.", nameof(data));
        Data = data;
        Batch = batch;
        Frames = frames;
        Dim = dim;
    }

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>Batch size.</summary>
    public int Batch { get; }

    /// <summary>Frames per row (the longest utterance's).</summary>
    public int Frames { get; }

    /// <summary>Values per frame.</summary>
    public int Dim { get; }

    /// <summary>One frame's values.</summary>
    public ReadOnlySpan<float> Frame(int batch, int frame)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batch, Batch);
        ArgumentOutOfRangeException.ThrowIfNegative(frame);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(frame, Frames);
        return Data.AsSpan(((batch * Frames) + frame) * Dim, Dim);
    }

    /// <summary>The first <paramref name="frames"/> frames of one row, <c>[frames, dim]</c> flattened.</summary>
    public ReadOnlySpan<float> Row(int batch, int frames)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frames, Frames);
        return Data.AsSpan(batch * Frames * Dim, frames * Dim);
    }
}
