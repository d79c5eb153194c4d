namespace HArnESS.Serialization;

/// <summary>
/// Element types of the safetensors format, spelled as in the file header (<c>"F32"</c>, <c>"BF16"</c>…).
/// Types TorchSharp has no tensor type for (unsigned 16/32/64-bit, 8-bit floats) are parsed so a header can be
/// inspected, but loading such a tensor is refused with a <see cref="HArnessCheckpointException"/>.
/// </summary>
public enum SafeTensorDType
{
    /// <summary>Boolean, one byte per element.</summary>
    BOOL,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer (inspect only).</summary>
    U16,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>Brain float 16.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer (inspect only).</summary>
    U32,
    /// <summary>IEEE single precision.</summary>
    F32,
    /// <summary>IEEE double precision.</summary>
    F64,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer (inspect only).</summary>
    U64,
    /// <summary>8-bit float, 5-bit exponent (inspect only).</summary>
    F8_E5M2,
    /// <summary>8-bit float, 4-bit exponent (inspect only).</summary>
    F8_E4M3,
}
