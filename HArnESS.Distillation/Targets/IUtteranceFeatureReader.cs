using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>Turns one audio file into frame features for dumping (<see cref="Mfcc39FeatureReader"/>,
/// <see cref="TeacherLayerFeatureReader"/>).</summary>
public interface IUtteranceFeatureReader
{
    /// <summary>Feature dimension D.</summary>
    int Dimension { get; }

    /// <summary>A stable description of what is computed (kind, layer, options); stored in shard markers so a restart
    /// recomputes shards made with different settings.</summary>
    string Description { get; }

    /// <summary>Features of one file: float32 <c>[frames, D]</c> on the CPU (the caller disposes).</summary>
    /// <param name="path">Audio file.</param>
    /// <param name="cancellationToken">Stops between chunks of a long file.</param>
    Tensor Read(string path, CancellationToken cancellationToken = default);
}
