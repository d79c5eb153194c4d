using static TorchSharp.torch;

namespace HArnESS.Downstream.Upstream;

/// <summary>Turns an upstream's hidden states (<c>EncoderOutput.HiddenStates</c>: [0] = transformer input,
/// [i] = layer i) into the one feature sequence a task head reads.</summary>
public interface ILayerCombiner
{
    /// <summary>Number of hidden states expected (layers + 1 for an encoder with that many layers).</summary>
    int NumLayers { get; }

    /// <summary>Combines the hidden states.</summary>
    /// <param name="hiddenStates">Each <c>[batch, frames, dim]</c>, <see cref="NumLayers"/> of them.</param>
    /// <returns><c>[batch, frames, dim]</c>.</returns>
    Tensor Combine(IReadOnlyList<Tensor> hiddenStates);

    /// <summary>The weight each hidden state gets (softmax weights; one-hot for a chosen layer), which layers a task uses.</summary>
    double[] LayerWeights();
}
