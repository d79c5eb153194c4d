using HArnESS.Modules;

namespace HArnESS.Encoders;

/// <summary>Ready-made convolution stacks for the CNN front-end.</summary>
public static class ConvStack
{
    /// <summary>wav2vec2/HuBERT's stack <c>[(512,10,5)] + [(512,3,2)]×4 + [(512,2,2)]×2</c>: 400-sample receptive
    /// field, 320-sample hop (20 ms at 16 kHz).</summary>
    public static IReadOnlyList<ConvLayerSpec> Wav2Vec2 { get; } =
    [
        new(512, 10, 5), new(512, 3, 2), new(512, 3, 2), new(512, 3, 2), new(512, 3, 2), new(512, 2, 2), new(512, 2, 2),
    ];

    /// <summary>The wav2vec2 kernels and strides with another channel count (same frame rate, smaller front-end).</summary>
    /// <param name="dim">Channels of every layer.</param>
    public static IReadOnlyList<ConvLayerSpec> Wav2Vec2WithDim(int dim) => Wav2Vec2.Select(s => s with { Dim = dim }).ToArray();
}
