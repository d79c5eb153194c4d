using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Upstream;

/// <summary>SUPERB's weighted sum of hidden states (s3prl's <c>Featurizer</c>): learned weights, zero at start (so
/// every layer starts at 1/L), a softmax over layers, and optionally a non-affine layer norm of each hidden state
/// before the sum.</summary>
public sealed class WeightedLayerSum : nn.Module<Tensor, Tensor>, ILayerCombiner
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly Parameter weights;
#pragma warning restore IDE1006

    /// <summary>Creates the sum.</summary>
    /// <param name="numLayers">Number of hidden states (layers + 1 including the transformer input).</param>
    /// <param name="layerNorm">Layer-normalise each hidden state (over its feature dimension, no affine) first.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/> is not positive.</exception>
    public WeightedLayerSum(int numLayers, bool layerNorm = false) : base(nameof(WeightedLayerSum))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        NumLayers = numLayers;
        LayerNorm = layerNorm;
        weights = new Parameter(zeros(numLayers));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int NumLayers { get; }

    /// <summary>Whether each hidden state is layer-normalised before the sum.</summary>
    public bool LayerNorm { get; }

    /// <summary>Sums stacked hidden states.</summary>
    /// <param name="stacked"><c>[layers, batch, frames, dim]</c>.</param>
    /// <returns><c>[batch, frames, dim]</c>.</returns>
    /// <exception cref="ArgumentException">The first dimension is not <see cref="NumLayers"/>.</exception>
    public override Tensor forward(Tensor stacked)
    {
        if (stacked.dim() != 4 || stacked.shape[0] != NumLayers)
            throw new ArgumentException($"Expected [{NumLayers}, batch, frames, dim] stacked hidden states, got [{string.Join(", ", stacked.shape)}].", nameof(stacked));
        using var scope = NewDisposeScope();
        var x = LayerNorm ? nn.functional.layer_norm(stacked, [stacked.shape[3]]) : stacked;
        var w = weights.softmax(0).to_type(x.dtype).view(NumLayers, 1, 1, 1);
        return (w * x).sum(dim: 0).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The count is not <see cref="NumLayers"/>.</exception>
    public Tensor Combine(IReadOnlyList<Tensor> hiddenStates)
    {
        ArgumentNullException.ThrowIfNull(hiddenStates);
        if (hiddenStates.Count != NumLayers)
            throw new ArgumentException($"Expected {NumLayers} hidden states, got {hiddenStates.Count}.", nameof(hiddenStates));
        using var scope = NewDisposeScope();
        return forward(stack(hiddenStates.ToArray(), 0)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public double[] LayerWeights()
    {
        using var noGrad = no_grad();
        using var w = weights.softmax(0).to(CPU).to_type(ScalarType.Float64);
        return w.data<double>().ToArray();
    }
}
