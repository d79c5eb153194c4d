using HArnESS.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Features;

/// <summary>Checks and helpers shared by the batched feature computations (lengths, padding masks, per-utterance means).</summary>
internal static class FeatureBatching
{
    /// <summary>Float dtype the computation runs in: float64 stays, everything else becomes float32.</summary>
    public static Tensor AsComputeDType(Tensor x, string argument)
    {
        if (!x.is_floating_point())
            throw new HArnessConfigException($"{argument} must be a floating-point tensor, got {x.dtype}.", argument);
        return x.dtype is ScalarType.Float32 or ScalarType.Float64 ? x : x.to(ScalarType.Float32);
    }

    /// <summary>A single waveform <c>[time]</c> (or <c>[1, time]</c>) as a <c>[1, time]</c> batch.</summary>
    public static Tensor SingleAsBatch(Tensor waveform)
    {
        ArgumentNullException.ThrowIfNull(waveform);
        if (waveform.dim() == 1) return waveform.unsqueeze(0);
        if (waveform.dim() == 2 && waveform.shape[0] == 1) return waveform;
        throw new HArnessConfigException(
            $"waveform must be [time] (or [1, time]); got shape [{string.Join(", ", waveform.shape)}]. " +
            "Use the overload with lengths for [batch, time].", "waveform");
    }

    /// <summary>Validates <c>waveforms [batch, time]</c> with <c>lengths [batch]</c> and returns the lengths on the CPU.</summary>
    public static long[] ReadLengths(Tensor waveforms, Tensor lengths, string dataName = "waveforms")
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        ArgumentNullException.ThrowIfNull(lengths);
        if (waveforms.dim() != 2)
            throw new HArnessConfigException($"{dataName} must be [batch, time]; got shape [{string.Join(", ", waveforms.shape)}].", dataName);
        return ReadLengths(lengths, waveforms.shape[0], waveforms.shape[1], "time");
    }

    /// <summary>Validates <c>lengths [batch]</c> against a batch size and a maximum, returns them on the CPU.</summary>
    public static long[] ReadLengths(Tensor lengths, long batch, long max, string axis)
    {
        if (lengths.dim() != 1 || lengths.shape[0] != batch)
            throw new HArnessConfigException(
                $"lengths must be [batch = {batch}]; got shape [{string.Join(", ", lengths.shape)}].", "lengths");
        if (lengths.is_floating_point() || lengths.is_complex() || lengths.dtype == ScalarType.Bool)
            throw new HArnessConfigException($"lengths must be an integer tensor, got {lengths.dtype}.", "lengths");
        using var cpu = lengths.to(ScalarType.Int64).cpu();
        var values = cpu.data<long>().ToArray();
        for (var i = 0; i < values.Length; i++)
            if (values[i] < 0 || values[i] > max)
                throw new HArnessConfigException(
                    $"lengths[{i}] = {values[i]} is outside [0, {max}] (the padded {axis} size).", "lengths");
        return values;
    }

    /// <summary><c>[batch, frames]</c> bool mask, true where a frame lies within its utterance.</summary>
    public static Tensor ValidMask(long[] counts, long frames, Device device)
    {
        using var c = torch.tensor(counts, device: device);
        using var t = Scalars.Arange(frames, device: device);
        return t.unsqueeze(0).lt(c.unsqueeze(1));
    }

    /// <summary>Zeroes padded frames of <c>x [batch, frames, dim]</c> and, when asked, subtracts each utterance's column mean over its own frames.</summary>
    public static Tensor FinishPadded(Tensor x, Tensor validMask, long[] counts, bool subtractMean)
    {
        using var invalid = validMask.logical_not().unsqueeze(-1);
        var y = x.masked_fill(invalid, Scalars.Of(0.0));
        if (!subtractMean) return y;
        using var denom = torch.tensor(counts.Select(c => (double)Math.Max(c, 1)).ToArray(), device: x.device).to(x.dtype);
        using var sum = y.sum(1, keepdim: true);
        using var mean = sum / denom.view(-1, 1, 1);
        using var centred = y - mean;
        y.Dispose();
        return centred.masked_fill(invalid, Scalars.Of(0.0));
    }
}
