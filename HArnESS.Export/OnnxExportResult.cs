namespace HArnESS.Export;

/// <summary>What <see cref="OnnxExporter"/> wrote.</summary>
/// <param name="ModelPath">The <c>.onnx</c> file.</param>
/// <param name="SidecarPath">The JSON sidecar beside it (same name, <c>.json</c>), read by HArnESS.Inference.</param>
/// <param name="ModelBytes">Size of the <c>.onnx</c> file.</param>
/// <param name="Outputs">Graph output names in order.</param>
/// <param name="QuantizedLinears">Linear layers written int8 (0 for float32).</param>
public sealed record OnnxExportResult(string ModelPath, string SidecarPath, long ModelBytes, IReadOnlyList<string> Outputs, int QuantizedLinears);
