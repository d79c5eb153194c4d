using HArnESS.Downstream.Heads;

namespace HArnESS.Downstream.Tasks;

/// <summary>The head of an utterance-classification task: pooling and classifier.</summary>
public sealed record ClassificationTaskOptions
{
    /// <summary>Pooling over frames. Default <see cref="PoolingKind.Mean"/> (SUPERB's ER/KS/SID baseline).</summary>
    public PoolingKind Pooling { get; init; } = PoolingKind.Mean;

    /// <summary>Hidden width of the attentive statistics pooling. Default 128.</summary>
    public int AttentionDim { get; init; } = 128;

    /// <summary>Hidden layers of the classifier; empty = linear. Default empty.</summary>
    public IReadOnlyList<int> HiddenDims { get; init; } = [];

    /// <summary>Dropout in the MLP. Default 0.1.</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Optional projection width applied to every frame before pooling (s3prl's <c>projector</c>); null = none. Default null.</summary>
    public int? ProjectionDim { get; init; }
}
