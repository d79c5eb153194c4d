namespace HArnESS.Checkpoints;

/// <summary>Naming scheme of the tensors in a speech-encoder checkpoint.</summary>
public enum CheckpointLayout
{
    /// <summary>HF transformers <c>Wav2Vec2Model</c>/<c>HubertModel</c> keys (optionally under <c>wav2vec2.</c>/<c>hubert.</c>);
    /// this is also HArnESS's own layout.</summary>
    HuggingFace,

    /// <summary>torchaudio <c>Wav2Vec2Model</c> keys (<c>encoder.transformer.*</c>, <c>encoder.feature_projection.*</c>).</summary>
    TorchAudio,

    /// <summary>fairseq <c>Wav2Vec2Model</c>/<c>HubertModel</c> keys (<c>post_extract_proj</c>, <c>encoder.pos_conv.0</c>,
    /// <c>self_attn</c>, <c>fc1</c>/<c>fc2</c>; fine-tuned models under <c>w2v_encoder.w2v_model.</c>).</summary>
    Fairseq,
}
