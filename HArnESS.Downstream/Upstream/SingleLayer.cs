using static TorchSharp.torch;

namespace HArnESS.Downstream.Upstream;

/// <summary>Uses one chosen hidden state (no parameters), e.g. the last layer or the layer a weighted sum found best.</summary>
public sealed class SingleLayer : ILayerCombiner
{
    /// <summary>Creates the selector.</summary>
    /// <param name="numLayers">Number of hidden states the upstream returns.</param>
    /// <param name="layer">Index into the hidden states (0 = transformer input; negative counts from the end, -1 = last).</param>
    /// <exception cref="ArgumentOutOfRangeException">The layer is outside the hidden states.</exception>
    public SingleLayer(int numLayers, int layer = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        var idx = layer < 0 ? numLayers + layer : layer;
        if (idx < 0 || idx >= numLayers)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"Layer must be in [-{numLayers}, {numLayers}).");
        NumLayers = numLayers;
        Layer = idx;
    }

    /// <inheritdoc/>
    public int NumLayers { get; }

    /// <summary>The chosen index (non-negative).</summary>
    public int Layer { get; }

    /// <inheritdoc/>
    /// <returns>An alias of the chosen hidden state (the caller's tensor, not a copy).</returns>
    /// <exception cref="ArgumentException">The count is not <see cref="NumLayers"/>.</exception>
    public Tensor Combine(IReadOnlyList<Tensor> hiddenStates)
    {
        ArgumentNullException.ThrowIfNull(hiddenStates);
        if (hiddenStates.Count != NumLayers)
            throw new ArgumentException($"Expected {NumLayers} hidden states, got {hiddenStates.Count}.", nameof(hiddenStates));
        return hiddenStates[Layer].alias();
    }

    /// <inheritdoc/>
    public double[] LayerWeights()
    {
        var w = new double[NumLayers];
        w[Layer] = 1;
        return w;
    }
}
