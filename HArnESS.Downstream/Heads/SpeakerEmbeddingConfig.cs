namespace HArnESS.Downstream.Heads;

/// <summary>Architecture of a <see cref="SpeakerEmbeddingHead"/>: TDNN blocks over the upstream features, optional
/// residual connections and ECAPA's multi-layer feature aggregation, a pooling, and a linear embedding layer.</summary>
public sealed record SpeakerEmbeddingConfig
{
    /// <summary>Upstream feature width (required).</summary>
    public int InputDim { get; init; }

    /// <summary>Channels of every TDNN block. Default 256.</summary>
    public int Channels { get; init; } = 256;

    /// <summary>Kernel (context) of each block, odd. Default [5, 3, 3] (ECAPA-lite).</summary>
    public IReadOnlyList<int> Kernels { get; init; } = [5, 3, 3];

    /// <summary>Dilation of each block, as many as <see cref="Kernels"/>. Default [1, 2, 3].</summary>
    public IReadOnlyList<int> Dilations { get; init; } = [1, 2, 3];

    /// <summary>Add each block's input to its output (blocks after the first). Default true.</summary>
    public bool Residual { get; init; } = true;

    /// <summary>Concatenate every block's output and mix them with a 1×1 TDNN to <see cref="StatsChannels"/>
    /// (ECAPA's MFA); false = a 1×1 TDNN on the last block only (x-vector's frame 5). Default true.</summary>
    public bool Aggregate { get; init; } = true;

    /// <summary>Channels entering the pooling. Default 512.</summary>
    public int StatsChannels { get; init; } = 512;

    /// <summary>Pooling: <see cref="PoolingKind.AttentiveStatistics"/> (ECAPA, default) or <see cref="PoolingKind.Statistics"/> (x-vector).</summary>
    public PoolingKind Pooling { get; init; } = PoolingKind.AttentiveStatistics;

    /// <summary>Hidden width of the attentive pooling. Default 128.</summary>
    public int AttentionDim { get; init; } = 128;

    /// <summary>Embedding width. Default 192 (ECAPA-TDNN).</summary>
    public int EmbeddingDim { get; init; } = 192;

    /// <summary>The x-vector layout (Snyder et al. 2018) at a given width: contexts 5/3/3/1 with dilations 1/2/3/1,
    /// no residuals, 1500-channel statistics pooling, 512-d embedding.</summary>
    /// <param name="inputDim">Upstream feature width.</param>
    public static SpeakerEmbeddingConfig XVector(int inputDim) => new()
    {
        InputDim = inputDim, Channels = 512, Kernels = [5, 3, 3, 1], Dilations = [1, 2, 3, 1], Residual = false,
        Aggregate = false, StatsChannels = 1500, Pooling = PoolingKind.Statistics, EmbeddingDim = 512,
    };

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">Values are out of range; every problem is listed.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(InputDim > 0, nameof(InputDim), $"{nameof(InputDim)} must be positive, got {InputDim}.");
        e.Require(Channels > 0, nameof(Channels), $"{nameof(Channels)} must be positive, got {Channels}.");
        e.Require(Kernels is { Count: > 0 }, nameof(Kernels), $"{nameof(Kernels)} needs at least one block.");
        e.Require(Kernels is null || Kernels.All(k => k > 0 && k % 2 == 1), nameof(Kernels), $"{nameof(Kernels)} must be odd and positive, got [{string.Join(", ", Kernels ?? [])}].");
        e.Require(Dilations is not null && Kernels is not null && Dilations.Count == Kernels.Count, nameof(Dilations),
            $"{nameof(Dilations)} needs one value per kernel ({Kernels?.Count ?? 0}), got {Dilations?.Count ?? 0}.");
        e.Require(Dilations is null || Dilations.All(d => d > 0), nameof(Dilations), $"{nameof(Dilations)} must be positive.");
        e.Require(StatsChannels > 0, nameof(StatsChannels), $"{nameof(StatsChannels)} must be positive, got {StatsChannels}.");
        e.Require(Pooling is PoolingKind.AttentiveStatistics or PoolingKind.Statistics, nameof(Pooling),
            $"{nameof(Pooling)} must be {nameof(PoolingKind.AttentiveStatistics)} or {nameof(PoolingKind.Statistics)}, got {Pooling}.");
        e.Require(AttentionDim > 0, nameof(AttentionDim), $"{nameof(AttentionDim)} must be positive, got {AttentionDim}.");
        e.Require(EmbeddingDim > 0, nameof(EmbeddingDim), $"{nameof(EmbeddingDim)} must be positive, got {EmbeddingDim}.");
        e.ThrowIfAny(nameof(SpeakerEmbeddingConfig));
    }
}
