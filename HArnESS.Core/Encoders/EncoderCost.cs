namespace HArnESS.Encoders;

/// <summary>Analytic size and compute of a <see cref="SpeechEncoderConfig"/>, without building the model (safe for
/// 1B-parameter presets). The front-end's share comes from its own section (<see cref="Modules.FrontEndConfig"/>).</summary>
public static class EncoderCost
{
    /// <summary>Transformer frames for <paramref name="samples"/> input samples (the front-end's formula:
    /// <see cref="Modules.FrontEndConfig.OutputFrames"/>).</summary>
    public static long OutputFrames(SpeechEncoderConfig config, long samples)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.FrontEnd.OutputFrames(samples);
    }

    /// <summary>Parameter count of the model <see cref="SpeechEncoder"/> builds from <paramref name="config"/>.</summary>
    /// <param name="config">The shape.</param>
    /// <param name="includeMaskEmbedding">False leaves out <c>masked_spec_embed</c> (as torchaudio's factories count).</param>
    public static long CountParameters(SpeechEncoderConfig config, bool includeMaskEmbedding = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        long n = config.FrontEnd.CountParameters();
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
    /// Not counted: norms, GELU/GLU, softmax, residual adds, masking, and the fbank computation itself (FFT, Mel).</summary>
    public static long CountMacs(SpeechEncoderConfig config, long samples)
    {
        ArgumentNullException.ThrowIfNull(config);
        long macs = config.FrontEnd.CountMacs(samples);
        long frames = OutputFrames(config, samples);
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
