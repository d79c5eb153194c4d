using System.Collections.Concurrent;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Audio;

/// <summary>
/// The polyphase windowed-sinc filter bank of one rate pair, computed as torchaudio's
/// <c>_get_sinc_resample_kernel</c> does (in double precision), and its application with strided <c>conv1d</c>.
/// </summary>
/// <remarks>
/// torchaudio applies one <c>[new, 1, 2 * width + orig]</c> kernel, although each phase is non-zero on only about
/// <c>2 * width</c> taps: for 44.1 kHz → 16 kHz that is 475 taps of which 35 matter. Here the phases are split into
/// consecutive groups, each convolved over just the span its taps cover, which skips the zeros (6–13× fewer
/// multiply-adds for 44.1k/22.05k ↔ 16k) and gives the same sums. Filter banks are cached per rates, options,
/// device and dtype.
/// </remarks>
internal sealed class ResampleKernel
{
    private static readonly ConcurrentDictionary<Key, Lazy<Tensor[]>> Cache = new();

    private readonly record struct Key(int Orig, int New, bool Grouped, int Width, double Rolloff, ResamplingMethod Method, double Beta, string Device, ScalarType DType);

    /// <summary>Consecutive phases <c>[First, First + Count)</c> whose taps all lie in <c>[Offset, Offset + Span)</c>.</summary>
    public readonly record struct PhaseGroup(int First, int Count, int Offset, int Span);

    private readonly double[] _coefficients;
    private readonly double _beta;

    public ResampleKernel(int fromRate, int toRate, ResamplerOptions options, bool grouped = true)
    {
        var gcd = Gcd(fromRate, toRate);
        Orig = fromRate / gcd;
        New = toRate / gcd;
        Options = options;
        var baseFreq = Math.Min(Orig, New) * options.Rolloff;
        Width = (int)Math.Ceiling(options.LowpassFilterWidth * Orig / baseFreq);
        _beta = options.Method == ResamplingMethod.SincKaiser ? options.Beta ?? ResamplerOptions.DefaultKaiserBeta : 0;
        _coefficients = Coefficients(out var support);
        Groups = grouped ? PlanGroups(support) : [new PhaseGroup(0, New, 0, Taps)];
        Grouped = grouped;
    }

    /// <summary>Input rate divided by gcd(from, to): the conv stride.</summary>
    public int Orig { get; }

    /// <summary>Output rate divided by gcd(from, to): the number of phases.</summary>
    public int New { get; }

    /// <summary>Padding on the left (input samples); the right gets <c>Width + Orig</c>.</summary>
    public int Width { get; }

    /// <summary>Taps of each phase in torchaudio's layout: <c>2 * Width + Orig</c>.</summary>
    public int Taps => (2 * Width) + Orig;

    public ResamplerOptions Options { get; }

    public bool Grouped { get; }

    public IReadOnlyList<PhaseGroup> Groups { get; }

    /// <summary>Multiply-adds per output sample actually performed.</summary>
    public double MacsPerOutput => Groups.Sum(g => (double)g.Count * g.Span) / New;

    /// <summary>
    /// Resamples rows: <c>[rows, length]</c> → <c>[rows, ceil(length * New / Orig)]</c> on the input's device and dtype.
    /// </summary>
    public Tensor Apply(Tensor flat)
    {
        using var scope = torch.NewDisposeScope();
        var rows = flat.shape[0];
        var length = flat.shape[1];
        var banks = Get(flat.device, flat.dtype);
        var padded = nn.functional.pad(flat, [Width, Width + Orig]).unsqueeze(1); // [rows, 1, T]
        var blocks = (length / Orig) + 1; // = (T - Taps) / Orig + 1
        Tensor y;
        if (banks.Length == 1)
        {
            y = nn.functional.conv1d(padded, banks[0], stride: Orig); // [rows, New, blocks]
        }
        else
        {
            var parts = new Tensor[banks.Length];
            for (var i = 0; i < banks.Length; i++)
            {
                var g = Groups[i];
                var shifted = padded[.., .., g.Offset..];
                parts[i] = nn.functional.conv1d(shifted, banks[i], stride: Orig)[.., .., ..(int)blocks];
            }
            y = torch.cat(parts, 1);
        }
        // Phase j of block m is output sample m * New + j.
        var target = Resampler.OutputLength(length, Orig, New);
        var result = y.transpose(1, 2).reshape(rows, blocks * New)[.., ..(int)target];
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The filter banks (one per group, <c>[count, 1, span]</c>) on a device and dtype; cached, do not dispose.</summary>
    public Tensor[] Get(Device device, ScalarType dtype)
    {
        var key = new Key(Orig, New, Grouped, Options.LowpassFilterWidth, Options.Rolloff, Options.Method, _beta, device.ToString(), dtype);
        return Cache.GetOrAdd(key, _ => new Lazy<Tensor[]>(() => Build(device, dtype))).Value;
    }

    /// <summary>Drops every cached filter bank (they are small; this is for tests and long-running hosts).</summary>
    public static void ClearCache()
    {
        foreach (var entry in Cache.Values)
            if (entry.IsValueCreated)
                foreach (var t in entry.Value) t.Dispose();
        Cache.Clear();
    }

    internal static int CachedCount => Cache.Count;

    /// <summary>The taps in double precision, <c>[New, Taps]</c> row-major, exactly torchaudio's formula.</summary>
    internal double[] Coefficients() => (double[])_coefficients.Clone();

    private double[] Coefficients(out (int Lo, int Hi)[] support)
    {
        var lw = (double)Options.LowpassFilterWidth;
        var baseFreq = Math.Min(Orig, New) * Options.Rolloff;
        var scale = baseFreq / Orig;
        var taps = Taps;
        var i0Beta = BesselI0(_beta);
        var result = new double[New * taps];
        support = new (int, int)[New];
        for (var j = 0; j < New; j++)
        {
            int lo = taps, hi = 0;
            for (var k = 0; k < taps; k++)
            {
                // t = (k - Width) / Orig - j / New, in units of the cut-off period; outside ±lw the tap is zero
                // (torchaudio clamps t there, where sinc(±lw·π) vanishes).
                var t = ((-(double)j / New) + ((double)(k - Width) / Orig)) * baseFreq;
                if (Math.Abs(t) >= lw) continue;
                lo = Math.Min(lo, k);
                hi = k + 1;
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
            support[j] = lo < hi ? (lo, hi) : (0, 1);
        }
        return result;
    }

    // Groups of g consecutive phases, g chosen so a group's span is about twice one phase's support; only used
    // when it saves at least a third of the work over the single dense kernel.
    private List<PhaseGroup> PlanGroups((int Lo, int Hi)[] support)
    {
        var dense = new List<PhaseGroup> { new(0, New, 0, Taps) };
        var band = support.Max(s => s.Hi - s.Lo);
        var size = (int)Math.Clamp(Math.Round((double)band * New / Orig), 1, New);
        size = Math.Max(size, (New + 63) / 64); // at most 64 convolutions per call
        var groups = new List<PhaseGroup>();
        for (var first = 0; first < New; first += size)
        {
            var count = Math.Min(size, New - first);
            var lo = support.Skip(first).Take(count).Min(s => s.Lo);
            var hi = support.Skip(first).Take(count).Max(s => s.Hi);
            groups.Add(new PhaseGroup(first, count, lo, hi - lo));
        }
        var groupedMacs = groups.Sum(g => (double)g.Count * g.Span);
        return groups.Count > 1 && groupedMacs * 1.5 <= (double)New * Taps ? groups : dense;
    }

    private Tensor[] Build(Device device, ScalarType dtype)
    {
        HArnessRuntime.EnsureInitialized();
        var banks = new Tensor[Groups.Count];
        for (var i = 0; i < banks.Length; i++)
        {
            var g = Groups[i];
            var values = new double[g.Count * g.Span];
            for (var j = 0; j < g.Count; j++)
                Array.Copy(_coefficients, ((g.First + j) * Taps) + g.Offset, values, j * g.Span, g.Span);
            using var cpu = torch.tensor(values, [g.Count, 1, g.Span], ScalarType.Float64);
            banks[i] = cpu.to(dtype, device);
            // The cache owns it: keep it out of whatever dispose scope the first caller runs in.
            banks[i].DetachFromDisposeScope();
        }
        return banks;
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
