using HArnESS.Data;
using HArnESS.Downstream.Decoding;
using HArnESS.Downstream.Heads;
using HArnESS.Downstream.Text;
using HArnESS.Downstream.Upstream;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Tasks;

/// <summary>CTC speech recognition over a <see cref="CharacterVocabulary"/>: layer combiner → optional
/// <see cref="TemporalConvStack"/> (<see cref="AsrTaskOptions.ConvLayers"/>) → <see cref="CtcHead"/>, trained with the
/// CTC loss ("ctc"); decoded greedily or with prefix beam search.</summary>
public sealed class AsrTask : nn.Module, IDownstreamTask
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module? combiner;
    private readonly TemporalConvStack? context;
    private readonly CtcHead ctc;
#pragma warning restore IDE1006
    private readonly ILayerCombiner _combiner;

    /// <summary>Creates the task.</summary>
    /// <param name="vocabulary">Output tokens (blank at 0).</param>
    /// <param name="upstream">The upstream.</param>
    /// <param name="labelName">Transcript label set: <c>wrd</c> (words) or <c>ltr</c> (fairseq letters). Default <c>wrd</c>.</param>
    /// <param name="dropout">Dropout before the output layer.</param>
    /// <param name="name">Task name. Default "asr".</param>
    public AsrTask(CharacterVocabulary vocabulary, UpstreamModel upstream, string labelName = "wrd", double dropout = 0.0, string name = "asr")
        : this(vocabulary, upstream, Checked(labelName, dropout), name)
    {
    }

    /// <summary>Creates the task with a head as <paramref name="options"/> describe (convolution blocks before the projection).</summary>
    /// <param name="vocabulary">Output tokens (blank at 0).</param>
    /// <param name="upstream">The upstream.</param>
    /// <param name="options">Head options (label set, convolution blocks, dropout).</param>
    /// <param name="name">Task name. Default "asr".</param>
    /// <exception cref="HArnessValidationException">The options are invalid.</exception>
    public AsrTask(CharacterVocabulary vocabulary, UpstreamModel upstream, AsrTaskOptions options, string name = "asr")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options.Validate();
        Name = name;
        LabelName = options.LabelName;
        Vocabulary = vocabulary;
        Options = options;
        _combiner = upstream.CreateCombiner();
        combiner = _combiner as nn.Module;
        var width = upstream.HiddenSize;
        if (options.ConvLayers > 0)
        {
            context = new TemporalConvStack(width, options.ConvLayers, options.ConvChannels, options.ConvKernel, options.Dropout);
            width = context.OutputDim;
        }
        ctc = new CtcHead(width, vocabulary.Count, options.Dropout, vocabulary.BlankId);
        RegisterComponents();
    }

    private static AsrTaskOptions Checked(string labelName, double dropout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(labelName);
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Must be in [0, 1).");
        return new AsrTaskOptions { LabelName = labelName, Dropout = dropout };
    }

    /// <summary>The head options.</summary>
    public AsrTaskOptions Options { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public string LabelName { get; }

    /// <summary>The output tokens.</summary>
    public CharacterVocabulary Vocabulary { get; }

    /// <summary>The layer combiner.</summary>
    public ILayerCombiner Combiner => _combiner;

    /// <inheritdoc/>
    public nn.Module Head => this;

    /// <summary>Frame log-probabilities <c>[batch, frames, vocab]</c>.</summary>
    public Tensor LogProbs(UpstreamFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        var x = _combiner.Combine(features.HiddenStates);
        if (context is not null) x = context.forward(x, features.PaddingMask);
        return ctc.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>The plain transcripts of a batch's rows.</summary>
    public IReadOnlyList<string> Transcripts(AudioBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return TaskLabels.Of(batch, LabelName).Select(l => TaskLabels.Transcript(l, LabelName)).ToArray();
    }

    /// <inheritdoc/>
    /// <exception cref="HArnessDataException">A transcript is empty or holds a character outside the vocabulary (the message names the utterance and the character).</exception>
    public IReadOnlyList<TaskLossTerm> Losses(UpstreamFeatures features, AudioBatch batch)
    {
        var texts = Transcripts(batch);
        var encoded = texts.Select((t, r) => Vocabulary.Encode(t, TaskLabels.Where(batch, r))).ToArray();
        var max = encoded.Max(e => e.Length);
        var flat = new long[encoded.Length * max];
        for (var r = 0; r < encoded.Length; r++)
            for (var j = 0; j < encoded[r].Length; j++) flat[r * max + j] = encoded[r][j];
        using var scope = NewDisposeScope();
        var lp = LogProbs(features).to_type(ScalarType.Float32);
        var targets = tensor(flat, [encoded.Length, max], device: lp.device);
        var targetLengths = tensor(encoded.Select(e => (long)e.Length).ToArray(), device: lp.device);
        var loss = ctc.Loss(lp, features.FrameLengths.to(lp.device), targets, targetLengths);
        return [new TaskLossTerm("ctc", loss.MoveToOuterDisposeScope())];
    }

    /// <summary>Decodes every row: greedy when <paramref name="beam"/> is null, else prefix beam search.</summary>
    /// <param name="features">Upstream output.</param>
    /// <param name="beam">Beam options, or null for greedy decoding.</param>
    public string[] Decode(UpstreamFeatures features, CtcBeamSearchOptions? beam = null)
    {
        using var scope = NewDisposeScope();
        var lp = LogProbs(features);
        var tokens = beam is null
            ? CtcGreedyDecoder.Decode(lp, features.FrameLengths, Vocabulary.BlankId).Select(h => h.Tokens)
            : CtcPrefixBeamSearch.Decode(lp, features.FrameLengths, beam with { Blank = Vocabulary.BlankId }).Select(n => n[0].Tokens);
        return tokens.Select(t => Vocabulary.Decode(t)).ToArray();
    }
}
