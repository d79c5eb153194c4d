using HArnESS.Data;
using HArnESS.Downstream.Upstream;
using static TorchSharp.torch;

namespace HArnESS.Downstream.Tasks;

/// <summary>A downstream task: a trainable head (layer combiner included) over upstream features, and the loss of a
/// batch. Implementations: <see cref="ClassificationTask"/> (SER, DID, KWS, speaker ID), <see cref="AsrTask"/>
/// (CTC), <see cref="SpeakerVerificationTask"/> (embeddings trained with AAM-softmax or softmax).</summary>
public interface IDownstreamTask
{
    /// <summary>Task name, used to prefix its loss terms and label its results ("ser", "asr", "sv").</summary>
    string Name { get; }

    /// <summary>The label set name the task reads from a batch (<c>emo</c>, <c>wrd</c>, <c>spk</c>…).</summary>
    string LabelName { get; }

    /// <summary>The head's module (every trainable downstream parameter of the task).</summary>
    nn.Module Head { get; }

    /// <summary>The loss terms of one batch.</summary>
    /// <param name="features">The upstream's output for <paramref name="batch"/>.</param>
    /// <param name="batch">The batch (its labels are read by <see cref="LabelName"/>).</param>
    /// <exception cref="HArnessDataException">A label of the batch is unusable (not in the label set, an empty transcript, a character outside the vocabulary).</exception>
    IReadOnlyList<TaskLossTerm> Losses(UpstreamFeatures features, AudioBatch batch);
}
