using System.Collections.Concurrent;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Features;

/// <summary>
/// Kaldi's triangular mel filterbank (<c>MelBanks</c> in <c>mel-computations.cc</c>, <c>get_mel_banks</c> in
/// torchaudio): mel = 1127 ln(1 + f / 700), bins equally spaced in mel between the cut-offs, optional VTLN warping.
/// </summary>
public static class MelBanks
{
    private static readonly ConcurrentDictionary<string, float[,]> Cache = new();

    /// <summary>Kaldi's mel scale, <c>1127 ln(1 + hz / 700)</c>.</summary>
    public static double MelScale(double hz) => 1127.0 * Math.Log(1.0 + hz / 700.0);

    /// <summary>Inverse of <see cref="MelScale"/>, <c>700 (e^(mel / 1127) - 1)</c>.</summary>
    public static double InverseMelScale(double mel) => 700.0 * (Math.Exp(mel / 1127.0) - 1.0);

    /// <summary>
    /// Builds the bank as a <c>[numBins, paddedWindowSize / 2 + 1]</c> matrix of weights over the rfft bins (the Nyquist
    /// column is zero, as Kaldi).
    /// </summary>
    /// <param name="numBins">Number of triangles, at least 3.</param>
    /// <param name="paddedWindowSize">FFT length (even).</param>
    /// <param name="sampleRate">Sample rate in Hz.</param>
    /// <param name="lowFreq">Low cut-off in Hz, in [0, Nyquist).</param>
    /// <param name="highFreq">High cut-off in Hz; &lt;= 0 is an offset from Nyquist.</param>
    /// <param name="vtlnLow">Low VTLN inflection point in Hz (used only when <paramref name="vtlnWarp"/> != 1).</param>
    /// <param name="vtlnHigh">High VTLN inflection point in Hz; negative is an offset from Nyquist.</param>
    /// <param name="vtlnWarp">VTLN warp factor; 1 = none.</param>
    /// <exception cref="HArnessConfigException">A bad value; the message names the option (<c>NumMelBins</c>,
    /// <c>LowFreq</c>, <c>HighFreq</c>, <c>VtlnLow</c>, <c>VtlnHigh</c>, <c>VtlnWarp</c>).</exception>
    public static float[,] Compute(int numBins, int paddedWindowSize, double sampleRate, double lowFreq, double highFreq,
        double vtlnLow = 100.0, double vtlnHigh = -500.0, double vtlnWarp = 1.0)
    {
        if (numBins < 3) throw new HArnessConfigException($"NumMelBins must be at least 3, got {numBins}.", "NumMelBins");
        if (paddedWindowSize < 2 || paddedWindowSize % 2 != 0)
            throw new HArnessConfigException($"The FFT length must be even and >= 2, got {paddedWindowSize}.", "PaddedWindowSize");
        if (!(sampleRate > 0)) throw new HArnessConfigException($"SampleRate must be positive, got {sampleRate}.", "SampleRate");
        var nyquist = 0.5 * sampleRate;
        if (highFreq <= 0.0) highFreq += nyquist;
        if (!(lowFreq >= 0.0 && lowFreq < nyquist))
            throw new HArnessConfigException($"LowFreq must be in [0, Nyquist = {nyquist}) Hz, got {lowFreq}.", "LowFreq");
        if (!(highFreq > 0.0 && highFreq <= nyquist))
            throw new HArnessConfigException(
                $"HighFreq resolves to {highFreq} Hz; it must be in (0, Nyquist = {nyquist}] (0 = Nyquist, negative = offset from Nyquist).",
                "HighFreq");
        if (!(lowFreq < highFreq))
            throw new HArnessConfigException($"HighFreq ({highFreq} Hz) must be above LowFreq ({lowFreq} Hz).", "HighFreq");
        if (!(vtlnWarp > 0) || double.IsInfinity(vtlnWarp))
            throw new HArnessConfigException($"VtlnWarp must be a positive factor (1 = off), got {vtlnWarp}.", "VtlnWarp");
        if (vtlnHigh < 0.0) vtlnHigh += nyquist;
        if (vtlnWarp != 1.0)
        {
            if (!(vtlnLow > lowFreq && vtlnLow < highFreq))
                throw new HArnessConfigException($"VtlnLow ({vtlnLow} Hz) must be inside (LowFreq, HighFreq) = ({lowFreq}, {highFreq}).", "VtlnLow");
            if (!(vtlnHigh > 0.0 && vtlnHigh < highFreq && vtlnLow < vtlnHigh))
                throw new HArnessConfigException(
                    $"VtlnHigh resolves to {vtlnHigh} Hz; it must be in (VtlnLow = {vtlnLow}, HighFreq = {highFreq}).", "VtlnHigh");
        }

        var numFftBins = paddedWindowSize / 2;
        var bank = new float[numBins, numFftBins + 1];
        float[] weights;
        HArnessRuntime.EnsureInitialized();
        using (torch.NewDisposeScope())
        {
            // The same float32 tensor arithmetic as torchaudio's get_mel_banks (and Kaldi's BaseFloat code): bins far from
            // a strong tone are sensitive to the weights' last bits, so double-precision weights would drift from both.
            var fftBinWidth = sampleRate / paddedWindowSize;
            var melLow = MelScale(lowFreq);
            var melHigh = MelScale(highFreq);
            var melDelta = (melHigh - melLow) / (numBins + 1);
            var bin = Scalars.Arange(numBins, dtype: ScalarType.Int64).unsqueeze(1);
            using var melLowS = melLow.ToScalar();
            using var melDeltaS = melDelta.ToScalar();
            var left = bin.mul(melDeltaS).add(melLowS, Scalars.One);                   // [bins, 1] float32
            var center = bin.add(Scalars.Of(1.0), Scalars.One).mul(melDeltaS).add(melLowS, Scalars.One);
            var right = bin.add(Scalars.Of(2.0), Scalars.One).mul(melDeltaS).add(melLowS, Scalars.One);
            if (vtlnWarp != 1.0)
            {
                var warp = new VtlnWarp(vtlnLow, vtlnHigh, lowFreq, highFreq, vtlnWarp);
                left = warp.WarpMel(left);
                center = warp.WarpMel(center);
                right = warp.WarpMel(right);
            }
            using var fftBinWidthS = fftBinWidth.ToScalar();
            var mel = MelScaleOf(Scalars.Arange(numFftBins, dtype: ScalarType.Float32).mul(fftBinWidthS)).unsqueeze(0); // [1, fft]
            var up = (mel - left) / (center - left);
            var down = (right - mel) / (right - center);
            Tensor w;
            if (vtlnWarp == 1.0) w = torch.maximum(torch.zeros(1), torch.minimum(up, down));
            else
            {
                // Warping can reorder left/center/right, so take each slope only on its own side.
                var upSide = mel.gt(left).logical_and(mel.le(center));
                var downSide = mel.gt(center).logical_and(mel.lt(right));
                w = torch.where(upSide, up, torch.where(downSide, down, torch.zeros(1)));
            }
            weights = w.contiguous().data<float>().ToArray();
        }
        for (var b = 0; b < numBins; b++)
        {
            var any = false;
            for (var i = 0; i < numFftBins; i++)
            {
                var v = weights[b * numFftBins + i];
                bank[b, i] = v;
                any |= v > 0;
            }
            if (!any)
                throw new HArnessConfigException(
                    $"Mel bin {b} of {numBins} covers no FFT bin (FFT length {paddedWindowSize}, {lowFreq}-{highFreq} Hz): " +
                    "NumMelBins is too large for this window; use fewer bins or a longer frame.", "NumMelBins");
        }
        return bank;
    }

    private static Tensor MelScaleOf(Tensor hz) => hz.div(Scalars.Of(700.0)).add(Scalars.Of(1.0), Scalars.One).log().mul(Scalars.Of(1127.0));

    private static Tensor InverseMelScaleOf(Tensor mel) => mel.div(Scalars.Of(1127.0)).exp().sub(Scalars.Of(1.0)).mul(Scalars.Of(700.0));

    /// <summary>The bank for <paramref name="options"/>, built once per distinct setting and shared (do not modify it).</summary>
    internal static float[,] GetCached(FbankOptions options)
    {
        var f = options.Frame;
        var key = FormattableString.Invariant(
            $"{options.NumMelBins}|{f.PaddedWindowSize}|{f.SampleRate:R}|{options.LowFreq:R}|{options.HighFreq:R}|{options.VtlnLow:R}|{options.VtlnHigh:R}|{options.VtlnWarp:R}");
        if (Cache.TryGetValue(key, out var bank)) return bank;
        bank = Compute(options.NumMelBins, f.PaddedWindowSize, f.SampleRate, options.LowFreq, options.HighFreq,
            options.VtlnLow, options.VtlnHigh, options.VtlnWarp);
        return Cache.GetOrAdd(key, bank);
    }

    /// <summary>Kaldi's piecewise-linear VTLN warp (<c>VtlnWarpFreq</c>), applied in the mel domain.</summary>
    private sealed class VtlnWarp
    {
        private readonly double _low, _high, _l, _h, _scale, _scaleLeft, _scaleRight;

        public VtlnWarp(double vtlnLow, double vtlnHigh, double lowFreq, double highFreq, double factor)
        {
            _low = lowFreq;
            _high = highFreq;
            _l = vtlnLow * Math.Max(1.0, factor);
            _h = vtlnHigh * Math.Min(1.0, factor);
            _scale = 1.0 / factor;
            if (!(_l > lowFreq && _h < highFreq))
                throw new HArnessConfigException(
                    $"VtlnWarp {factor} moves the inflection points ({_l}, {_h} Hz) outside ({lowFreq}, {highFreq}) Hz.", "VtlnWarp");
            _scaleLeft = (_scale * _l - lowFreq) / (_l - lowFreq);
            _scaleRight = (highFreq - _scale * _h) / (highFreq - _h);
        }

        public Tensor WarpMel(Tensor mel) => MelScaleOf(WarpHz(InverseMelScaleOf(mel)));

        // torchaudio's vtln_warp_freq: regions overlap, later assignments win (after h, then before h, before l, outside).
        private Tensor WarpHz(Tensor f)
        {
            using var high = _high.ToScalar();
            using var low = _low.ToScalar();
            using var h = _h.ToScalar();
            using var l = _l.ToScalar();
            using var scale = _scale.ToScalar();
            using var scaleLeft = _scaleLeft.ToScalar();
            using var scaleRight = _scaleRight.ToScalar();
            var res = f.sub(high).mul(scaleRight).add(high, Scalars.One);
            res = torch.where(f.lt(h), f.mul(scale), res);
            res = torch.where(f.lt(l), f.sub(low).mul(scaleLeft).add(low, Scalars.One), res);
            return torch.where(f.lt(low).logical_or(f.gt(high)), f, res);
        }
    }
}
