namespace HArnESS.Training;

/// <summary>The dtype the trainer computes in; the optimiser always updates float32 master weights.</summary>
public enum PrecisionMode
{
    /// <summary>Float32 everywhere (the default, and the only mode that makes sense on most CPUs).</summary>
    Float32,

    /// <summary>BFloat16 weights for matmuls and convolutions, float32 norms, losses and master weights; no loss
    /// scaling needed (bf16 has float32's range).</summary>
    BFloat16,

    /// <summary>Float16 compute like <see cref="BFloat16"/>, with a dynamic loss scaler
    /// (<see cref="DynamicLossScaler"/>) that skips an update and backs off when the gradients overflow.</summary>
    Float16,
}
