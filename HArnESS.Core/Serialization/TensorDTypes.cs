using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>Element sizes and the mapping between safetensors, pickle storage names and TorchSharp scalar types.</summary>
internal static class TensorDTypes
{
    /// <summary>Bytes per element of a safetensors type.</summary>
    public static int SizeOf(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.BOOL or SafeTensorDType.U8 or SafeTensorDType.I8
            or SafeTensorDType.F8_E5M2 or SafeTensorDType.F8_E4M3 => 1,
        SafeTensorDType.I16 or SafeTensorDType.U16 or SafeTensorDType.F16 or SafeTensorDType.BF16 => 2,
        SafeTensorDType.I32 or SafeTensorDType.U32 or SafeTensorDType.F32 => 4,
        SafeTensorDType.F64 or SafeTensorDType.I64 or SafeTensorDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The TorchSharp type of a safetensors type, or null when TorchSharp has none.</summary>
    public static ScalarType? ToScalarType(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.BOOL => ScalarType.Bool,
        SafeTensorDType.U8 => ScalarType.Byte,
        SafeTensorDType.I8 => ScalarType.Int8,
        SafeTensorDType.I16 => ScalarType.Int16,
        SafeTensorDType.F16 => ScalarType.Float16,
        SafeTensorDType.BF16 => ScalarType.BFloat16,
        SafeTensorDType.I32 => ScalarType.Int32,
        SafeTensorDType.F32 => ScalarType.Float32,
        SafeTensorDType.F64 => ScalarType.Float64,
        SafeTensorDType.I64 => ScalarType.Int64,
        _ => null,
    };

    /// <summary>The safetensors type of a TorchSharp type, or null when the format has none (complex, quantised).</summary>
    public static SafeTensorDType? FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Bool => SafeTensorDType.BOOL,
        ScalarType.Byte => SafeTensorDType.U8,
        ScalarType.Int8 => SafeTensorDType.I8,
        ScalarType.Int16 => SafeTensorDType.I16,
        ScalarType.Float16 => SafeTensorDType.F16,
        ScalarType.BFloat16 => SafeTensorDType.BF16,
        ScalarType.Int32 => SafeTensorDType.I32,
        ScalarType.Float32 => SafeTensorDType.F32,
        ScalarType.Float64 => SafeTensorDType.F64,
        ScalarType.Int64 => SafeTensorDType.I64,
        _ => null,
    };

    /// <summary>Bytes per element of a TorchSharp type that checkpoints can hold.</summary>
    public static int SizeOf(ScalarType type) => type switch
    {
        ScalarType.Bool or ScalarType.Byte or ScalarType.Int8 => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no checkpoint element size for this type"),
    };

    /// <summary>
    /// The element type of a PyTorch storage class (<c>torch.FloatStorage</c> → Float32). Null for names that are not
    /// storage classes.
    /// </summary>
    public static ScalarType? FromStorageName(string module, string name)
    {
        if (module != "torch") return null;
        return name switch
        {
            "FloatStorage" => ScalarType.Float32,
            "DoubleStorage" => ScalarType.Float64,
            "HalfStorage" => ScalarType.Float16,
            "BFloat16Storage" => ScalarType.BFloat16,
            "LongStorage" => ScalarType.Int64,
            "IntStorage" => ScalarType.Int32,
            "ShortStorage" => ScalarType.Int16,
            "CharStorage" => ScalarType.Int8,
            "ByteStorage" => ScalarType.Byte,
            "BoolStorage" => ScalarType.Bool,
            "ComplexFloatStorage" => ScalarType.ComplexFloat32,
            "ComplexDoubleStorage" => ScalarType.ComplexFloat64,
            _ => null,
        };
    }

    /// <summary>
    /// True when the contiguous strides of <paramref name="shape"/> and its byte extent fit in 64 bits, counting zero
    /// dimensions as one (libtorch computes strides that way, so <c>[0, 2^62, 3]</c> holds no element yet overflows).
    /// </summary>
    public static bool FitsInMemoryLayout(IReadOnlyList<long> shape, int elementSize)
    {
        long n = elementSize;
        foreach (var d in shape)
        {
            if (d < 0) return false;
            if (d > 1 && n > long.MaxValue / d) return false;
            n *= Math.Max(d, 1);
        }
        return true;
    }

    /// <summary>Product of the dimensions, or null on overflow or a negative dimension.</summary>
    public static long? ElementCount(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) return null;
            try { n = checked(n * d); }
            catch (OverflowException) { return null; }
        }
        return n;
    }
}
