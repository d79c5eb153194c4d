using HArnESS.Data;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>Turns padded batches of utterances into frame features for dumping (<see cref="Mfcc39FeatureReader"/>,
/// <see cref="TeacherLayerFeatureReader"/>). The audio comes from <see cref="AudioLoader"/>, so every reader sees
/// the same checked, normalised waveforms.</summary>
public interface IUtteranceFeatureReader
{
    /// <summary>Feature dimension D.</summary>
    int Dimension { get; }

    /// <summary>A stable description of everything that changes the output (kind, layer, options and, for a teacher,
    /// a hash of its weights); stored in shard markers and <see cref="TargetManifest"/>, so a restart recomputes
    /// products made with different settings and never reuses them.</summary>
    string Description { get; }

    /// <summary>Frames <see cref="Read"/> gives for an utterance of <paramref name="samples"/> samples (0 when too
    /// short for one); used to check K against the corpus before anything is dumped.</summary>
    long FrameCount(long samples);

    /// <summary>Features of every row of a padded batch: one float32 <c>[FrameCount(length), D]</c> tensor per row on
    /// the CPU, in row order (the caller disposes them).</summary>
    /// <param name="batch">Waveforms and lengths from <see cref="AudioLoader"/>.</param>
    /// <param name="cancellationToken">Stops between chunks of a long utterance.</param>
    IReadOnlyList<Tensor> Read(AudioBatch batch, CancellationToken cancellationToken = default);
}
