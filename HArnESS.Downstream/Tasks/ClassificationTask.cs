using HArnESS.Data;
using HArnESS.Downstream.Data;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Upstream;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Tasks;

/// <summary>Utterance classification (SER, DID, KWS, speaker ID): layer combiner → optional frame projection →
/// padding-aware pooling → classifier, trained with cross-entropy ("ce"). Labels are mapped through the training
/// <see cref="LabelSet"/> by name, so a split that lacks a class keeps the same ids.</summary>
public sealed class ClassificationTask : nn.Module, IDownstreamTask
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module? combiner;
    private readonly nn.Module<Tensor, Tensor>? projector;
    private readonly PoolingLayer pooling;
    private readonly ClassifierHead classifier;
#pragma warning restore IDE1006
    private readonly ILayerCombiner _combiner;

    /// <summary>Creates the task.</summary>
    /// <param name="name">Task name ("ser", "did", "kws").</param>
    /// <param name="labelName">Label set in the batches (<c>emo</c>, <c>dia</c>, <c>kws</c>).</param>
    /// <param name="labels">The classes (from the training labels).</param>
    /// <param name="upstream">The upstream (its layer count, width and combination options).</param>
    /// <param name="options">Head options; null = defaults.</param>
    public ClassificationTask(string name, string labelName, LabelSet labels, UpstreamModel upstream, ClassificationTaskOptions? options = null)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(labelName);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(upstream);
        options ??= new ClassificationTaskOptions();
        Name = name;
        LabelName = labelName;
        Labels = labels;
        Options = options;
        _combiner = upstream.CreateCombiner();
        combiner = _combiner as nn.Module;
        var d = upstream.HiddenSize;
        if (options.ProjectionDim is { } p)
        {
            projector = nn.Linear(d, p);
            d = p;
        }
        pooling = PoolingLayer.Create(options.Pooling, d, options.AttentionDim);
        classifier = new ClassifierHead(pooling.OutputDim, labels.Count, options.HiddenDims, options.Dropout);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public string LabelName { get; }

    /// <summary>The classes; class id = position.</summary>
    public LabelSet Labels { get; }

    /// <summary>Head options.</summary>
    public ClassificationTaskOptions Options { get; }

    /// <summary>The layer combiner (its <see cref="ILayerCombiner.LayerWeights"/> say which layers the task uses).</summary>
    public ILayerCombiner Combiner => _combiner;

    /// <inheritdoc/>
    public nn.Module Head => this;

    /// <summary>Class logits.</summary>
    /// <param name="features">Upstream output.</param>
    /// <returns><c>[batch, classes]</c>.</returns>
    public Tensor Logits(UpstreamFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        var x = _combiner.Combine(features.HiddenStates);
        if (projector is not null) x = projector.forward(x);
        return classifier.forward(pooling.forward(x, features.PaddingMask)).MoveToOuterDisposeScope();
    }

    /// <summary>Class ids of a batch's rows, mapped through <see cref="Labels"/>.</summary>
    /// <exception cref="HArnessDataException">A label is not in the set; the message names the utterance and the label.</exception>
    public long[] Targets(AudioBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var raw = TaskLabels.Of(batch, LabelName);
        return raw.Select((l, r) => Labels.IdOf(l) is var id and >= 0
            ? (long)id
            : throw new HArnessDataException(
                $"Utterance {TaskLabels.Where(batch, r)}: {LabelName} label '{l}' is not in the label set ({string.Join(", ", Labels.Classes)}).", batch.Paths[r])).ToArray();
    }

    /// <inheritdoc/>
    public IReadOnlyList<TaskLossTerm> Losses(UpstreamFeatures features, AudioBatch batch)
    {
        var targets = Targets(batch);
        using var scope = NewDisposeScope();
        var logits = Logits(features);
        var loss = nn.functional.cross_entropy(logits.to_type(ScalarType.Float32), tensor(targets, device: logits.device));
        return [new TaskLossTerm("ce", loss.MoveToOuterDisposeScope())];
    }

    /// <summary>The predicted class id of every row.</summary>
    public int[] Predict(UpstreamFeatures features)
    {
        using var scope = NewDisposeScope();
        return Logits(features).argmax(-1).to(CPU).to_type(ScalarType.Int32).data<int>().ToArray();
    }
}
