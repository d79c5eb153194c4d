using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>
/// A tensor stored in a checkpoint file, known by name, type and shape but not read yet: <see cref="Load"/> reads
/// its bytes only when asked, so a large checkpoint costs memory only for the tensors actually used.
/// </summary>
public abstract class CheckpointTensor
{
    /// <summary>Creates the entry.</summary>
    /// <param name="name">Key of the tensor in its file.</param>
    /// <param name="dtype">Element type stored in the file.</param>
    /// <param name="shape">Dimensions stored in the file.</param>
    /// <param name="filePath">File the tensor lives in (for error messages).</param>
    protected CheckpointTensor(string name, ScalarType dtype, IReadOnlyList<long> shape, string filePath)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        FilePath = filePath;
    }

    /// <summary>Key of the tensor in its file.</summary>
    public string Name { get; }

    /// <summary>Element type stored in the file.</summary>
    public ScalarType DType { get; }

    /// <summary>Dimensions stored in the file.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>File the tensor lives in.</summary>
    public string FilePath { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount => TensorDTypes.ElementCount(Shape) ?? 0;

    /// <summary>
    /// Reads the tensor into a new contiguous tensor that owns its memory (independent of the file), then moves it to
    /// <paramref name="device"/> and converts it to <paramref name="dtype"/> when those are given.
    /// </summary>
    /// <param name="device">Target device; CPU when null.</param>
    /// <param name="dtype">Target element type; the stored type when null.</param>
    /// <exception cref="HArnessCheckpointException">The bytes cannot be read or do not match the declared shape.</exception>
    public Tensor Load(Device? device = null, ScalarType? dtype = null)
    {
        var cpu = LoadCpu();
        if ((device is null || device.type == TorchSharp.DeviceType.CPU) && (dtype is null || dtype == cpu.dtype)) return cpu;
        using (cpu)
        {
            return cpu.to(dtype ?? cpu.dtype, device ?? CPU);
        }
    }

    /// <summary>Reads the stored bytes into a new CPU tensor of <see cref="DType"/> and <see cref="Shape"/>.</summary>
    protected abstract Tensor LoadCpu();

    /// <summary>Dimensions as text, for messages: <c>[768, 512]</c>.</summary>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {DType} {FormatShape(Shape)}";

    /// <summary>Copies raw little-endian bytes into a new CPU tensor.</summary>
    internal static Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType dtype, IReadOnlyList<long> shape, string name, string filePath)
    {
        if (bytes.Length > int.MaxValue - 1)
            throw new HArnessCheckpointException($"Tensor '{name}' is {bytes.Length} bytes; tensors over 2 GiB are not supported.", filePath);
        var t = empty(shape.ToArray(), dtype, CPU);
        if (bytes.Length == 0) return t;
        if (!BitConverter.IsLittleEndian)
            throw new HArnessCheckpointException("Checkpoint tensors are little-endian; this machine is big-endian.", filePath);
        // The setter copies into the tensor's own memory; it only reads from the span it is given.
        t.bytes = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(bytes), bytes.Length);
        return t;
    }
}
