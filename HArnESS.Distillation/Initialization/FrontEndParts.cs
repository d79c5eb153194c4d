namespace HArnESS.Distillation.Initialization;

/// <summary>Which non-layer parts <see cref="TeacherInitialization.CopyFrontEnd"/> copies, by state-dict prefix.</summary>
[Flags]
public enum FrontEndParts
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>The CNN waveform front-end, <c>feature_extractor.*</c> (DistilHuBERT's <c>init_teacher_conv_layers</c>).</summary>
    FeatureExtractor = 1,

    /// <summary>The projection to the transformer width, <c>feature_projection.*</c> (fairseq's <c>post_extract_proj</c>).</summary>
    FeatureProjection = 2,

    /// <summary>The convolutional positional embedding, <c>encoder.pos_conv_embed.*</c>.</summary>
    PositionalConv = 4,

    /// <summary>The encoder-level layer norm, <c>encoder.layer_norm.*</c>.</summary>
    EncoderLayerNorm = 8,

    /// <summary>The mask embedding, <c>masked_spec_embed</c>.</summary>
    MaskEmbedding = 16,

    /// <summary>Everything above.</summary>
    All = FeatureExtractor | FeatureProjection | PositionalConv | EncoderLayerNorm | MaskEmbedding,
}
