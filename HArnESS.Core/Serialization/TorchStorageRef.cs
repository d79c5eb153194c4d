using static TorchSharp.torch;

namespace HArnESS.Serialization;

/// <summary>A PyTorch storage named by a pickle's persistent id: where its bytes are and what type they hold.</summary>
/// <param name="Key">Storage key in the archive (<c>data/&lt;key&gt;</c> in the zip format).</param>
/// <param name="DType">Element type from the storage class (<c>torch.FloatStorage</c> → Float32).</param>
/// <param name="ElementCount">Number of elements the pickle declares.</param>
/// <param name="ElementOffset">Offset in elements into the root storage (legacy-format views; 0 otherwise).</param>
/// <param name="Reader">Reads the whole root storage's bytes.</param>
internal sealed record TorchStorageRef(string Key, ScalarType DType, long ElementCount, long ElementOffset, Func<byte[]> Reader);
