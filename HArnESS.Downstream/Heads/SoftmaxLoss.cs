using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Heads;

/// <summary>Plain softmax training of embeddings: <c>Linear(dim, classes)</c> and mean cross-entropy (the
/// x-vector's original objective).</summary>
public sealed class SoftmaxLoss : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly TorchSharp.Modules.Linear fc;
#pragma warning restore IDE1006

    /// <summary>Creates the loss.</summary>
    /// <param name="embeddingDim">Embedding width.</param>
    /// <param name="numClasses">Number of classes.</param>
    public SoftmaxLoss(int embeddingDim, int numClasses) : base(nameof(SoftmaxLoss))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        fc = nn.Linear(embeddingDim, numClasses);
        RegisterComponents();
    }

    /// <summary>The linear layer (weight <c>[classes, dim]</c>, bias <c>[classes]</c>).</summary>
    public TorchSharp.Modules.Linear Linear => fc;

    /// <summary>Class logits.</summary>
    /// <param name="embeddings"><c>[batch, dim]</c>.</param>
    public Tensor Logits(Tensor embeddings) => fc.forward(embeddings);

    /// <summary>Mean cross-entropy.</summary>
    /// <param name="embeddings"><c>[batch, dim]</c>.</param>
    /// <param name="labels"><c>[batch]</c> int64 class ids.</param>
    /// <returns>A scalar.</returns>
    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        return nn.functional.cross_entropy(fc.forward(embeddings), labels.to_type(ScalarType.Int64)).MoveToOuterDisposeScope();
    }
}
