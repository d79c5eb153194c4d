using HArnESS.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Students;

/// <summary>Layer-to-layer distillation heads: one projection per matched pair, mapping a student hidden state
/// <c>[B, T, D_s]</c> to its teacher layer's width (or a PCA-compacted k): <c>nn.Linear</c> or
/// <see cref="LowRankProjection"/>. Keys <c>projections.{i}.weight</c>/<c>.bias</c> (linear) or
/// <c>projections.{i}.down.weight</c>, <c>.up.weight</c>, <c>.up.bias</c> (low rank).</summary>
public sealed class LayerProjections : nn.Module<IReadOnlyList<Tensor>, IReadOnlyList<Tensor>>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly ModuleList<nn.Module<Tensor, Tensor>> projections;
#pragma warning restore IDE1006

    /// <summary>Creates <paramref name="count"/> fresh projections.</summary>
    /// <param name="inputDim">The student's width.</param>
    /// <param name="count">Matched layer pairs.</param>
    /// <param name="outputDim">The prediction width.</param>
    /// <param name="kind">Linear or low rank.</param>
    /// <param name="rank">The rank for <see cref="LayerProjectionKind.LowRank"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public LayerProjections(int inputDim, int count, int outputDim, LayerProjectionKind kind = LayerProjectionKind.Linear, int rank = 64)
        : base(nameof(LayerProjections))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDim, 1);
        if (kind == LayerProjectionKind.LowRank) ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        Runtime.HArnessRuntime.EnsureInitialized();
        Kind = kind;
        projections = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (var i = 0; i < count; i++)
            projections.Add(kind == LayerProjectionKind.Linear
                ? nn.Linear(inputDim, outputDim)
                : new LowRankProjection(inputDim, rank, outputDim));
        RegisterComponents();
    }

    /// <summary>Linear or low rank.</summary>
    public LayerProjectionKind Kind { get; }

    /// <summary>Number of projections.</summary>
    public int Count => projections.Count;

    /// <summary>Projection <paramref name="i"/> (e.g. to initialise it from a PCA basis).</summary>
    public nn.Module<Tensor, Tensor> this[int i] => projections[i];

    /// <summary>Projects each student hidden state with its own projection.</summary>
    /// <param name="studentLayers">One <c>[B, T, D_s]</c> per projection, in order.</param>
    /// <returns>One <c>[B, T, out]</c> per projection.</returns>
    /// <exception cref="ArgumentException">The count differs from <see cref="Count"/>.</exception>
    public override IReadOnlyList<Tensor> forward(IReadOnlyList<Tensor> studentLayers)
    {
        ArgumentNullException.ThrowIfNull(studentLayers);
        if (studentLayers.Count != Count)
            throw new ArgumentException($"Expected {Count} student layers (one per projection), got {studentLayers.Count}.", nameof(studentLayers));
        var outputs = new Tensor[Count];
        for (var i = 0; i < Count; i++) outputs[i] = projections[i].forward(studentLayers[i]);
        return outputs;
    }
}
