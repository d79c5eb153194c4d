using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Audio;

/// <summary>
/// Band-limited resampling between two integer rates with a windowed-sinc polyphase filter bank, numerically the
/// algorithm of torchaudio's <c>functional.resample</c>: the rates are reduced by their gcd, each of the
/// <c>to / gcd</c> output phases has its own filter, and one strided <c>conv1d</c> applies them all. Runs batched on
/// the device and dtype of its input; filter banks are cached per (rates, options, device, dtype).
/// </summary>
/// <remarks>The module has no parameters or buffers; moving it between devices is not needed.</remarks>
public sealed class Resampler : nn.Module<Tensor, Tensor>
{
    private readonly ResampleKernel _kernel;

    /// <summary>Creates a resampler from <paramref name="fromRate"/> to <paramref name="toRate"/> Hz.</summary>
    /// <param name="fromRate">Input sample rate (positive).</param>
    /// <param name="toRate">Output sample rate (positive).</param>
    /// <param name="options">Filter settings (torchaudio's defaults when null).</param>
    /// <exception cref="HArnessConfigException">A rate is not positive or an option is out of range.</exception>
    public Resampler(int fromRate, int toRate, ResamplerOptions? options = null) : base(nameof(Resampler))
    {
        if (fromRate <= 0) throw new HArnessConfigException($"fromRate must be positive, got {fromRate}.", nameof(fromRate));
        if (toRate <= 0) throw new HArnessConfigException($"toRate must be positive, got {toRate}.", nameof(toRate));
        options ??= ResamplerOptions.Default;
        options.Validate();
        HArnessRuntime.EnsureInitialized();
        FromRate = fromRate;
        ToRate = toRate;
        Options = options;
        _kernel = new ResampleKernel(fromRate, toRate, options);
        RegisterComponents();
    }

    /// <summary>Input sample rate.</summary>
    public int FromRate { get; }

    /// <summary>Output sample rate.</summary>
    public int ToRate { get; }

    /// <summary>The filter settings.</summary>
    public ResamplerOptions Options { get; }

    /// <summary>Taps of each polyphase filter (<c>2 * width + from / gcd</c>); for rates whose gcd is small most of
    /// them are zero, as in torchaudio.</summary>
    public int FilterTaps => _kernel.Taps;

    /// <summary>Output length for an input of <paramref name="inputLength"/> samples: <c>ceil(inputLength * to / from)</c>.</summary>
    public long OutputLength(long inputLength) => OutputLength(inputLength, _kernel.Orig, _kernel.New);

    internal static long OutputLength(long inputLength, int orig, int @new) =>
        (long)((((Int128)@new * inputLength) + orig - 1) / orig);

    /// <summary>Resamples along the last dimension.</summary>
    /// <param name="waveforms">Floating-point samples <c>[batch, time]</c>, or any shape <c>[..., time]</c>, on any device.</param>
    /// <returns><c>[batch, OutputLength(time)]</c> (same leading shape, device and dtype). With equal rates, a view of the input.</returns>
    /// <exception cref="HArnessConfigException">The tensor is not floating point or has no dimensions.</exception>
    public override Tensor forward(Tensor waveforms)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        if (!waveforms.is_floating_point())
            throw new HArnessConfigException($"waveforms must be a floating-point tensor, got {waveforms.dtype}.", nameof(waveforms));
        if (waveforms.dim() == 0)
            throw new HArnessConfigException("waveforms must have a time dimension ([batch, time] or [..., time]), got a scalar.", nameof(waveforms));
        if (FromRate == ToRate) return waveforms.alias();

        using var scope = torch.NewDisposeScope();
        var shape = waveforms.shape;
        var length = shape[^1];
        long rows = 1;
        for (var i = 0; i < shape.Length - 1; i++) rows *= shape[i];
        // Explicit rows: -1 cannot be inferred for empty inputs.
        var resampled = _kernel.Apply(waveforms.reshape(rows, length));
        var outShape = shape.ToArray();
        outShape[^1] = resampled.shape[1];
        return resampled.reshape(outShape).MoveToOuterDisposeScope();
    }

    /// <summary>Resamples along the last dimension (same as <see cref="forward"/>).</summary>
    /// <param name="waveforms">Floating-point samples <c>[batch, time]</c> or <c>[..., time]</c>.</param>
    /// <returns>The resampled samples <c>[batch, OutputLength(time)]</c>.</returns>
    public Tensor Forward(Tensor waveforms) => forward(waveforms);
}
