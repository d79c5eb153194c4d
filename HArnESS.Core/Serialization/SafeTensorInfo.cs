using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>One tensor entry of a safetensors header, already validated against the file.</summary>
/// <param name="Name">Tensor name (the header key).</param>
/// <param name="DType">Element type as written in the header.</param>
/// <param name="Shape">Dimensions; empty for a scalar.</param>
/// <param name="Begin">Byte offset of the first element, relative to the start of the data buffer.</param>
/// <param name="End">Byte offset one past the last element, relative to the start of the data buffer.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public long ElementCount => TensorDTypes.ElementCount(Shape) ?? 0;

    /// <summary>Size of the tensor data in bytes.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The TorchSharp element type, or null for a type TorchSharp cannot hold (U16, U32, U64, F8).</summary>
    public ScalarType? ScalarType => TensorDTypes.ToScalarType(DType);
}
