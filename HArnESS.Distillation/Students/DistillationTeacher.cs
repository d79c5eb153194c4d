using HArnESS.Checkpoints;
using HArnESS.Distillation.Losses;
using HArnESS.Encoders;
using HArnESS.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Students;

/// <summary>
/// A frozen teacher: its <see cref="SpeechEncoder"/> and, when its checkpoint carries one, HuBERT's masked-prediction
/// head (fairseq's <c>final_proj</c> and <c>label_embs_concat</c>), whose code space the discriminative loss needs
/// (<see cref="GetCodebook"/>). <see cref="Forward"/> runs under <c>no_grad</c> in eval mode and restores the
/// encoder's training flag afterwards. Disposing it disposes the encoder and the head.
/// </summary>
public sealed class DistillationTeacher : IDisposable
{
    /// <summary>Wraps a teacher already in memory.</summary>
    /// <param name="encoder">The teacher's encoder (owned from now on).</param>
    /// <param name="head">Its masked-prediction head, or null when it has no codebook.</param>
    /// <param name="source">Where it came from (a checkpoint path), for messages.</param>
    /// <exception cref="ArgumentException">The head reads another width than the encoder's.</exception>
    public DistillationTeacher(SpeechEncoder encoder, MaskedPredictionHead? head = null, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (head is not null && head.Dim != encoder.HiddenSize)
            throw new ArgumentException($"The head's final_proj reads {head.Dim} features but the encoder is {encoder.HiddenSize} wide.", nameof(head));
        Encoder = encoder;
        Head = head;
        Source = source;
    }

    /// <summary>Loads a teacher checkpoint (any form <see cref="CheckpointLoader"/> reads) with its masked-prediction
    /// head when the file has one (<c>SpeechEncoder.LoadWithHead</c>).</summary>
    /// <param name="path">Folder or file.</param>
    /// <param name="options">Load options; null for the defaults.</param>
    /// <exception cref="HArnessCheckpointException">The checkpoint does not fit, or its head is incomplete (named).</exception>
    public static DistillationTeacher Load(string path, CheckpointLoadOptions? options = null)
    {
        var (encoder, head, _) = SpeechEncoder.LoadWithHead(path, options);
        return new DistillationTeacher(encoder, head, path);
    }

    /// <summary>The teacher's encoder.</summary>
    public SpeechEncoder Encoder { get; }

    /// <summary>The masked-prediction head, or null when the teacher has none.</summary>
    public MaskedPredictionHead? Head { get; }

    /// <summary>Where the teacher came from, or null.</summary>
    public string? Source { get; }

    /// <summary>The teacher's config.</summary>
    public SpeechEncoderConfig Config => Encoder.Config;

    /// <summary>True when the teacher has a codebook (<see cref="Head"/> is set).</summary>
    public bool HasCodebook => Head is not null;

    /// <summary>The teacher's frozen code space for <see cref="DiscriminativeLoss"/> (detached copies of the head's
    /// <c>final_proj</c> and codebook).</summary>
    /// <exception cref="HArnessCheckpointException">The teacher has no codebook: the message says so, names the
    /// checkpoint and points to k-means labels with <see cref="CodebookCrossEntropyLoss"/> instead.</exception>
    public TeacherCodebook GetCodebook() =>
        Head is null
            ? TeacherCodebook.FromStateDict(new Dictionary<string, Tensor>(), "", Source ?? "a teacher without a masked-prediction head")
            : TeacherCodebook.FromHead(Head);

    /// <summary>Checks that every layer exists in the teacher.</summary>
    /// <param name="layers">Hidden-state indices (0..<see cref="SpeechEncoder.NumLayers"/>).</param>
    /// <exception cref="HArnessConfigException">A layer the teacher does not have (option <c>TeacherLayers</c>).</exception>
    public void CheckLayers(IReadOnlyList<int> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var l in layers)
            if (l < 0 || l > Encoder.NumLayers)
                throw new HArnessConfigException(
                    $"Teacher layer {l} does not exist: the teacher{(Source is null ? "" : $" ('{Source}')")} has {Encoder.NumLayers} layers (hidden states 0..{Encoder.NumLayers}).",
                    "TeacherLayers");
    }

    /// <summary>Runs the teacher up to the deepest of <paramref name="layers"/> without gradient, in eval mode.</summary>
    /// <param name="waveforms"><c>[B, samples]</c>.</param>
    /// <param name="lengths">Valid samples <c>[B]</c>, or null.</param>
    /// <param name="layers">The hidden states needed; the output holds hidden states 0..max.</param>
    /// <exception cref="HArnessConfigException">A layer the teacher does not have.</exception>
    public EncoderOutput Forward(Tensor waveforms, Tensor? lengths, IReadOnlyList<int> layers)
    {
        ArgumentNullException.ThrowIfNull(waveforms);
        CheckLayers(layers);
        var stop = layers.Count == 0 ? Encoder.NumLayers : layers.Max();
        var wasTraining = Encoder.training;
        Encoder.eval();
        try
        {
            using var _ = no_grad();
            return Encoder.Forward(waveforms, lengths, stop);
        }
        finally
        {
            if (wasTraining) Encoder.train();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Encoder.Dispose();
        Head?.Dispose();
    }
}
