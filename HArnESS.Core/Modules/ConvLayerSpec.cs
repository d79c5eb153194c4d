namespace HArnESS.Modules;

/// <summary>One convolution of a waveform front-end: output channels, kernel width and stride (fairseq's
/// <c>conv_feature_layers</c> triple <c>(dim, kernel, stride)</c>).</summary>
/// <param name="Dim">Output channels.</param>
/// <param name="Kernel">Kernel width in input frames.</param>
/// <param name="Stride">Stride in input frames.</param>
public readonly record struct ConvLayerSpec(int Dim, int Kernel, int Stride)
{
    /// <summary>Output frames of this convolution for <paramref name="inputFrames"/> input frames (no padding):
    /// <c>max(0, floor((n - kernel) / stride) + 1)</c>, as torchaudio's <c>ConvLayerBlock</c>.</summary>
    public long OutputFrames(long inputFrames) =>
        inputFrames < Kernel ? 0 : (inputFrames - Kernel) / Stride + 1;
}
