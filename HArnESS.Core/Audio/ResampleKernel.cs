using System.Collections.Concurrent;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Audio;

/// <summary>
/// The polyphase windowed-sinc filter bank of one rate pair, computed as torchaudio's
/// <c>_get_sinc_resample_kernel</c> does (in double precision), applied as one strided <c>conv1d</c> like
/// <c>_apply_sinc_resample_kernel</c>, and cached per rates, options, device and dtype.
/// </summary>
internal sealed class ResampleKernel
{
    private static readonly ConcurrentDictionary<Key, Lazy<Tensor>> Cache = new();

    private readonly record struct Key(int Orig, int New, int Width, double Rolloff, ResamplingMethod Method, double Beta, string Device, ScalarType DType);

    private readonly double _beta;

    public ResampleKernel(int fromRate, int toRate, ResamplerOptions options)
    {
        var gcd = Gcd(fromRate, toRate);
        Orig = fromRate / gcd;
        New = toRate / gcd;
        Options = options;
        var baseFreq = Math.Min(Orig, New) * options.Rolloff;
        Width = (int)Math.Ceiling(options.LowpassFilterWidth * Orig / baseFreq);
        _beta = options.Method == ResamplingMethod.SincKaiser ? options.Beta ?? ResamplerOptions.DefaultKaiserBeta : 0;
    }

    /// <summary>Input rate divided by gcd(from, to): the conv stride.</summary>
    public int Orig { get; }

    /// <summary>Output rate divided by gcd(from, to): the number of phases.</summary>
    public int New { get; }

    /// <summary>Padding on the left (input samples); the right gets <c>Width + Orig</c>.</summary>
    public int Width { get; }

    /// <summary>Taps of each phase: <c>2 * Width + Orig</c>.</summary>
    public int Taps => (2 * Width) + Orig;

    public ResamplerOptions Options { get; }

    /// <summary>On the CPU, rows are convolved in calls of at most this many input samples (at least one row each):
    /// libtorch's CPU conv1d slows down more than linearly on larger inputs (measured 2-3× for 8 rows of 10 s).</summary>
    internal const long CpuSamplesPerCall = 1 << 19;

    /// <summary>Resamples rows: <c>[rows, length]</c> → <c>[rows, ceil(length * New / Orig)]</c> on the input's device and dtype.</summary>
    public Tensor Apply(Tensor flat)
    {
        var rows = flat.shape[0];
        var rowsPerCall = Math.Max(1, CpuSamplesPerCall / Math.Max(1, flat.shape[1]));
        if (flat.device_type != DeviceType.CPU || rows <= rowsPerCall) return ApplyOnce(flat);

        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (long start = 0; start < rows; start += rowsPerCall)
            parts.Add(ApplyOnce(flat.narrow(0, start, Math.Min(rowsPerCall, rows - start))));
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }

    private Tensor ApplyOnce(Tensor flat)
    {
        using var scope = torch.NewDisposeScope();
        var rows = flat.shape[0];
        var length = flat.shape[1];
        var kernel = Get(flat.device, flat.dtype);
        var padded = nn.functional.pad(flat, [Width, Width + Orig]).unsqueeze(1); // [rows, 1, T]
        var y = nn.functional.conv1d(padded, kernel, stride: Orig);               // [rows, New, blocks]
        // Phase j of block m is output sample m * New + j.
        var target = Resampler.OutputLength(length, Orig, New);
        var result = y.transpose(1, 2).reshape(rows, y.shape[1] * y.shape[2])[.., ..(int)target];
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The filter bank <c>[New, 1, Taps]</c> on a device and dtype; cached, do not dispose.</summary>
    public Tensor Get(Device device, ScalarType dtype)
    {
        var key = new Key(Orig, New, Options.LowpassFilterWidth, Options.Rolloff, Options.Method, _beta, device.ToString(), dtype);
        return Cache.GetOrAdd(key, _ => new Lazy<Tensor>(() => Build(device, dtype))).Value;
    }

    /// <summary>Drops every cached filter bank (they are small; this is for tests and long-running hosts).</summary>
    public static void ClearCache()
    {
        foreach (var entry in Cache.Values)
            if (entry.IsValueCreated) entry.Value.Dispose();
        Cache.Clear();
    }

    internal static int CachedCount => Cache.Count;

    /// <summary>The taps in double precision, <c>[New, Taps]</c> row-major: torchaudio's formula.</summary>
    internal double[] Coefficients()
    {
        var lw = (double)Options.LowpassFilterWidth;
        var baseFreq = Math.Min(Orig, New) * Options.Rolloff;
        var scale = baseFreq / Orig;
        var taps = Taps;
        var i0Beta = BesselI0(_beta);
        var result = new double[New * taps];
        for (var j = 0; j < New; j++)
        {
            for (var k = 0; k < taps; k++)
            {
                // t = (k - Width) / Orig - j / New, in units of the cut-off period, clamped to the window support.
                var t = ((-(double)j / New) + ((double)(k - Width) / Orig)) * baseFreq;
                t = Math.Clamp(t, -lw, lw);
                double window;
                if (Options.Method == ResamplingMethod.SincHann)
                {
                    var c = Math.Cos(t * Math.PI / lw / 2);
                    window = c * c;
                }
                else
                {
                    var r = t / lw;
                    window = BesselI0(_beta * Math.Sqrt(Math.Max(0, 1 - (r * r)))) / i0Beta;
                }
                var x = t * Math.PI;
                var sinc = x == 0 ? 1.0 : Math.Sin(x) / x;
                result[(j * taps) + k] = sinc * window * scale;
            }
        }
        return result;
    }

    private Tensor Build(Device device, ScalarType dtype)
    {
        HArnessRuntime.EnsureInitialized();
        using var cpu = torch.tensor(Coefficients(), [New, 1, Taps], ScalarType.Float64);
        var kernel = cpu.to(dtype, device);
        // The cache owns it: keep it out of whatever dispose scope the first caller runs in.
        kernel.DetachFromDisposeScope();
        return kernel;
    }

    // Modified Bessel function of the first kind, order 0 (power series; converges fast for the betas used here).
    internal static double BesselI0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (var k = 1; k < 500; k++)
        {
            term *= q / ((double)k * k);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return sum;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
