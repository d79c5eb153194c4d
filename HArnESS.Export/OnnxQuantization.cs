namespace HArnESS.Export;

/// <summary>How the exporter writes Linear layers.</summary>
public enum OnnxQuantization
{
    /// <summary>float32 weights and MatMul.</summary>
    None,

    /// <summary>Dynamic int8 quantisation: weights int8 per output channel (symmetric, zero point 0), activations
    /// quantised per tensor to uint8 at run time (<c>DynamicQuantizeLinear</c> + <c>MatMulInteger</c>, rescaled in
    /// float). Applies to the feature projection, the fbank projection and every transformer Linear; convolutions,
    /// layer norms and task heads stay float32.</summary>
    Int8Dynamic,
}
