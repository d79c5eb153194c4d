using HArnESS.Modules;

namespace HArnESS.Encoders;

/// <summary>Analytic size and compute of a <see cref="SpeechEncoderConfig"/>, without building the model (safe for
/// 1B-parameter presets).</summary>
public static class EncoderCost
{
    /// <summary>Kaldi fbank window (25 ms at 16 kHz) assumed for fbank front-ends.</summary>
    public const int FbankWindowSamples = 400;

    /// <summary>Kaldi fbank shift (10 ms at 16 kHz) assumed for fbank front-ends.</summary>
    public const int FbankShiftSamples = 160;

    /// <summary>Transformer frames for <paramref name="samples"/> input samples (fbank: snip_edges framing, then stacking).</summary>
    public static long OutputFrames(SpeechEncoderConfig config, long samples)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.FrontEnd == FrontEndKind.Fbank)
        {
            var fbankFrames = samples < FbankWindowSamples ? 0 : 1 + (samples - FbankWindowSamples) / FbankShiftSamples;
            return fbankFrames / config.FbankStack;
        }
        foreach (var spec in config.ConvLayers) samples = spec.OutputFrames(samples);
        return samples;
    }

    /// <summary>Parameter count of the model <see cref="SpeechEncoder"/> builds from <paramref name="config"/>.</summary>
    /// <param name="config">The shape.</param>
    /// <param name="includeMaskEmbedding">False leaves out <c>masked_spec_embed</c> (as torchaudio's factories count).</param>
    public static long CountParameters(SpeechEncoderConfig config, bool includeMaskEmbedding = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        long n = 0;
        if (config.FrontEnd == FrontEndKind.Cnn)
        {
            long inCh = 1;
            for (var i = 0; i < config.ConvLayers.Count; i++)
            {
                var s = config.ConvLayers[i];
                n += s.Dim * inCh * s.Kernel + (config.ConvBias ? s.Dim : 0);
                if (config.ConvNorm == ConvNormMode.LayerNorm || i == 0) n += 2L * s.Dim; // norm weight + bias
                inCh = s.Dim;
            }
        }
        else
        {
            n += (long)config.FbankMelBins * config.FbankStack * config.FbankProjectionDim + config.FbankProjectionDim;
        }
        long c = config.FrontEndDim, d = config.HiddenSize, f = config.IntermediateSize;
        n += 2 * c + c * d + d;                                                      // feature_projection
        n += d * (d / config.PosConvGroups) * config.PosConvKernel + config.PosConvKernel + d; // weight_v, weight_g, bias
        n += 2 * d;                                                                  // encoder.layer_norm
        var perLayer = 4 * (d * d + d) + 4 * d + (d * f + f) + (f * d + d);
        n += config.NumLayers * perLayer;
        if (includeMaskEmbedding && config.HasMaskEmbedding) n += d;
        return n;
    }

    /// <summary>Multiply-accumulates of one forward pass over <paramref name="samples"/> samples, batch 1 (FLOPs ≈ 2 ×
    /// MACs). Counted: every convolution (front-end, positional), every linear layer (feature projection, fbank
    /// projection, q/k/v/out, feed-forward) and the two attention matmuls (<c>QKᵀ</c> and <c>AV</c>, <c>2·T²·D</c>).
    /// Not counted: norms, GELU, softmax, residual adds, masking, and the fbank computation itself (FFT, Mel).</summary>
    public static long CountMacs(SpeechEncoderConfig config, long samples)
    {
        ArgumentNullException.ThrowIfNull(config);
        long macs = 0;
        if (config.FrontEnd == FrontEndKind.Cnn)
        {
            long inCh = 1, t = samples;
            foreach (var s in config.ConvLayers)
            {
                t = s.OutputFrames(t);
                macs += t * s.Dim * inCh * s.Kernel;
                inCh = s.Dim;
            }
        }
        long frames = OutputFrames(config, samples);
        if (config.FrontEnd == FrontEndKind.Fbank)
            macs += frames * config.FbankMelBins * config.FbankStack * config.FbankProjectionDim;
        long c = config.FrontEndDim, d = config.HiddenSize, ffn = config.IntermediateSize;
        macs += frames * c * d;                                                      // feature projection
        // The positional conv pads kernel/2 on both sides, so an even kernel computes one extra frame (then dropped).
        var posFrames = frames + 2 * (config.PosConvKernel / 2) - config.PosConvKernel + 1;
        macs += posFrames * d * (d / config.PosConvGroups) * config.PosConvKernel;
        var perLayer = frames * (4 * d * d + 2 * d * ffn) + 2 * frames * frames * d;
        macs += config.NumLayers * perLayer;
        return macs;
    }
}
