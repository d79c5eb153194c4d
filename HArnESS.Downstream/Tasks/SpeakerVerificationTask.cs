using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Upstream;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Tasks;

/// <summary>Speaker verification: layer combiner → <see cref="SpeakerEmbeddingHead"/>, trained as speaker
/// classification with AAM-softmax ("aam") or softmax ("ce"); trials are scored by cosine similarity of the
/// embeddings (<see cref="CosineScorer"/>).</summary>
public sealed class SpeakerVerificationTask : nn.Module, IDownstreamTask
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module? combiner;
    private readonly SpeakerEmbeddingHead embedder;
    private readonly nn.Module<Tensor, Tensor, Tensor> loss;
#pragma warning restore IDE1006
    private readonly ILayerCombiner _combiner;

    /// <summary>Creates the task.</summary>
    /// <param name="speakers">Training speakers.</param>
    /// <param name="upstream">The upstream.</param>
    /// <param name="config">Embedding network; its <see cref="SpeakerEmbeddingConfig.InputDim"/> is set to the upstream width. Null = ECAPA-lite defaults.</param>
    /// <param name="aamMargin">AAM-softmax margin (radians); null = plain softmax.</param>
    /// <param name="aamScale">AAM-softmax scale.</param>
    /// <param name="labelName">Speaker label set. Default <c>spk</c>.</param>
    /// <param name="name">Task name. Default "sv".</param>
    public SpeakerVerificationTask(LabelSet speakers, UpstreamModel upstream, SpeakerEmbeddingConfig? config = null, double? aamMargin = 0.2,
        double aamScale = 30, string labelName = "spk", string name = "sv") : base(name)
    {
        ArgumentNullException.ThrowIfNull(speakers);
        ArgumentNullException.ThrowIfNull(upstream);
        Name = name;
        LabelName = labelName;
        Speakers = speakers;
        _combiner = upstream.CreateCombiner();
        combiner = _combiner as nn.Module;
        embedder = new SpeakerEmbeddingHead((config ?? new SpeakerEmbeddingConfig()) with { InputDim = upstream.HiddenSize });
        loss = aamMargin is { } m
            ? new AamSoftmaxLoss(embedder.EmbeddingDim, speakers.Count, m, aamScale)
            : new SoftmaxLoss(embedder.EmbeddingDim, speakers.Count);
        LossName = aamMargin is null ? "ce" : "aam";
        RegisterComponents();
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public string LabelName { get; }

    /// <summary>Training speakers.</summary>
    public LabelSet Speakers { get; }

    /// <summary>"aam" or "ce".</summary>
    public string LossName { get; }

    /// <summary>The layer combiner.</summary>
    public ILayerCombiner Combiner => _combiner;

    /// <inheritdoc/>
    public nn.Module Head => this;

    /// <summary>Utterance embeddings <c>[batch, dim]</c>.</summary>
    public Tensor Embed(UpstreamFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        return embedder.forward(_combiner.Combine(features.HiddenStates), features.PaddingMask).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    /// <exception cref="HArnessDataException">A speaker is not among the training speakers.</exception>
    public IReadOnlyList<TaskLossTerm> Losses(UpstreamFeatures features, AudioBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var raw = TaskLabels.Of(batch, LabelName);
        var ids = raw.Select((l, r) => Speakers.IdOf(l) is var id and >= 0
            ? (long)id
            : throw new HArnessDataException($"Utterance {TaskLabels.Where(batch, r)}: speaker '{l}' is not a training speaker.", batch.Paths[r])).ToArray();
        using var scope = NewDisposeScope();
        var emb = Embed(features).to_type(ScalarType.Float32);
        var value = loss.forward(emb, tensor(ids, device: emb.device));
        return [new TaskLossTerm(LossName, value.MoveToOuterDisposeScope())];
    }
}
