using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>A speaker-embedding network on upstream features (x-vector / ECAPA-lite, see
/// <see cref="SpeakerEmbeddingConfig"/>): TDNN blocks, aggregation, padding-aware pooling, linear embedding. Train
/// it with <see cref="AamSoftmaxLoss"/> or <see cref="SoftmaxLoss"/>; score trials with <see cref="CosineScorer"/>.</summary>
public sealed class SpeakerEmbeddingHead : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly TorchSharp.Modules.ModuleList<TdnnBlock> blocks;
    private readonly TdnnBlock aggregate;
    private readonly PoolingLayer pooling;
    private readonly nn.Module<Tensor, Tensor> embedding;
#pragma warning restore IDE1006

    /// <summary>Creates the network.</summary>
    /// <param name="config">Architecture.</param>
    /// <exception cref="HArnessValidationException">The config is invalid.</exception>
    public SpeakerEmbeddingHead(SpeakerEmbeddingConfig config) : base(nameof(SpeakerEmbeddingHead))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        blocks = nn.ModuleList<TdnnBlock>();
        var d = config.InputDim;
        for (var i = 0; i < config.Kernels.Count; i++)
        {
            blocks.Add(new TdnnBlock(d, config.Channels, config.Kernels[i], config.Dilations[i]));
            d = config.Channels;
        }
        aggregate = new TdnnBlock(config.Aggregate ? config.Channels * config.Kernels.Count : config.Channels, config.StatsChannels, 1);
        pooling = config.Pooling == PoolingKind.Statistics
            ? new StatisticsPooling(config.StatsChannels)
            : new AttentiveStatisticsPooling(config.StatsChannels, config.AttentionDim);
        embedding = nn.Linear(pooling.OutputDim, config.EmbeddingDim);
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public SpeakerEmbeddingConfig Config { get; }

    /// <summary>Embedding width.</summary>
    public int EmbeddingDim => Config.EmbeddingDim;

    /// <summary>Embeds utterances.</summary>
    /// <param name="features"><c>[batch, frames, inputDim]</c> upstream features.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; null = all valid.</param>
    /// <returns><c>[batch, embeddingDim]</c> (not normalised).</returns>
    public override Tensor forward(Tensor features, Tensor? paddingMask)
    {
        using var scope = NewDisposeScope();
        var outs = new List<Tensor>();
        var x = features;
        for (var i = 0; i < blocks.Count; i++)
        {
            var y = blocks[i].forward(x, paddingMask);
            x = Config.Residual && i > 0 ? y.add(x, Scalars.One) : y;
            outs.Add(x);
        }
        var agg = aggregate.forward(Config.Aggregate ? cat(outs.ToArray(), -1) : x, paddingMask);
        return embedding.forward(pooling.forward(agg, paddingMask)).MoveToOuterDisposeScope();
    }
}
