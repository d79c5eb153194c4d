using HArnESS.Export.Graph;
using HArnESS.Features;
using static HArnESS.Export.Graph.OnnxGraphBuilder;

namespace HArnESS.Export.Modules;

/// <summary>Kaldi fbank (<see cref="Fbank"/>, snip edges, no dither) inside the graph. Everything from a frame's
/// samples to its spectrum is linear (framing, DC-offset removal, pre-emphasis with <c>x[-1] = x[0]</c>, window, zero
/// padding to the FFT length, real DFT), so it is folded at export (in double) into one strided Conv1d whose
/// <c>2·(L/2+1)</c> output channels are the real and imaginary parts; squaring them and one MatMul with the mel bank
/// written twice gives <c>Σ mel·(re² + im²)</c>; then <c>log(max(·, ε))</c>.</summary>
internal static class KaldiFbankExporter
{
    // numeric_limits<float>::epsilon(), Kaldi's (and Fbank's) floor before the log.
    private const float FloatEpsilon = 1.1920928955078125e-07f;

    /// <summary>Checks that <paramref name="o"/> is a setting the graph reproduces.</summary>
    public static void Validate(FbankOptions o, ValidationErrors errors, string prefix)
    {
        var f = o.Frame;
        errors.Require(f.SnipEdges, $"{prefix}.Frame.SnipEdges", $"{prefix}.Frame.SnipEdges must be true for the in-graph fbank (reflected edges are not exported).");
        errors.Require(f.Dither == 0, $"{prefix}.Frame.Dither", $"{prefix}.Frame.Dither must be 0 for export (got {f.Dither}); a deployed model is deterministic.");
        errors.Require(!o.UseEnergy, $"{prefix}.UseEnergy", $"{prefix}.UseEnergy must be false for the in-graph fbank.");
        errors.Require(o.UsePower, $"{prefix}.UsePower", $"{prefix}.UsePower must be true (power spectrum) for the in-graph fbank.");
        errors.Require(!o.SubtractMean, $"{prefix}.SubtractMean", $"{prefix}.SubtractMean must be false for the in-graph fbank.");
    }

    public static (string Features, string Lengths) Write(OnnxGraphBuilder g, string waveforms, string lengths, FbankOptions o, double inputScale = 1.0)
    {
        var f = o.Frame;
        int n = f.WindowSize, padded = f.PaddedWindowSize, bins = padded / 2 + 1, shift = f.WindowShift;
        var kernel = SpectrumKernel(o, n, padded, bins, inputScale);
        var conv = g.Node("Conv", [g.Unsqueeze(waveforms, 1), g.Initializer("fbank.spectrum_kernel", kernel, 2L * bins, 1, n)],
            [Attr("kernel_shape", new long[] { n }), Attr("strides", new long[] { shift })], "spectrum");   // [B, 2K, M]
        var ri = g.Transpose(conv, 0, 2, 1);                                                                   // [B, M, 2K]
        var mel = MelBanks.Compute(o.NumMelBins, padded, f.SampleRate, o.LowFreq, o.HighFreq, o.VtlnLow, o.VtlnHigh, o.VtlnWarp);
        var melT = new float[2 * bins * o.NumMelBins];                                                          // [2K, bins]
        for (var k = 0; k < bins; k++)
            for (var m = 0; m < o.NumMelBins; m++)
                melT[k * o.NumMelBins + m] = melT[(bins + k) * o.NumMelBins + m] = mel[m, k];
        var energies = g.MatMul(g.Mul(ri, ri), g.Initializer("fbank.mel_t", melT, 2L * bins, o.NumMelBins));
        var features = o.UseLogFbank ? g.Node("Log", [g.Node("Max", [energies, g.Scalar(FloatEpsilon)])], hint: "fbank") : energies;
        return (features, LengthOps.Windowed(g, lengths, n, shift));
    }

    // Row r of the folded operator, for the frame x[0..n): DFT row (cos for r < K, sin after) · window · pre-emphasis · DC removal.
    private static float[] SpectrumKernel(FbankOptions o, int n, int padded, int bins, double inputScale)
    {
        var f = o.Frame;
        double[] window;
        using (var w = KaldiWindowFunction.Create(f.WindowType, n, f.BlackmanCoefficient))
            window = Weights.ToArray(w).Select(v => (double)v).ToArray();
        var c = f.PreemphasisCoefficient;
        var kernel = new float[2 * bins * n];
        var a = new double[n];
        var b = new double[n];
        for (var r = 0; r < 2 * bins; r++)
        {
            var k = r % bins;
            for (var i = 0; i < n; i++)
            {
                var phase = 2.0 * Math.PI * ((long)k * i % padded) / padded;
                a[i] = (r < bins ? Math.Cos(phase) : Math.Sin(phase)) * window[i];
            }
            // b = a · P where (P x)[0] = (1 - c) x[0], (P x)[j] = x[j] - c x[j-1].
            for (var m = 0; m < n; m++) b[m] = a[m] * (m == 0 ? 1.0 - c : 1.0) - (m + 1 < n ? c * a[m + 1] : 0.0);
            if (f.RemoveDcOffset)
            {
                var mean = b.Average();
                for (var m = 0; m < n; m++) b[m] -= mean;
            }
            for (var m = 0; m < n; m++) kernel[r * n + m] = (float)(b[m] * inputScale);
        }
        return kernel;
    }
}
