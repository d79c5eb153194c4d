using HArnESS.Distillation.Initialization;

namespace HArnESS.Distillation.Pipelines;

/// <summary>How a student is initialised from its teacher before distillation (DistilHuBERT, DistilXLSR): front-end
/// parts copied (<see cref="FrontEnd"/>) and student layers copied from teacher layers by <see cref="LayerMap"/>.
/// Copies need equal shapes (a thin student can take the CNN but not the projection); a mismatch is reported by
/// name before the first step.</summary>
/// <param name="FrontEnd">Non-layer parts to copy (default: CNN, projection, positional convolution, encoder layer
/// norm, mask embedding).</param>
/// <param name="LayerMap">One 0-based teacher layer per student layer (<see cref="LayerMaps.FirstN"/>, or layer
/// jumping <see cref="LayerMaps.EveryKth"/>, or any map such as [2, 5, 8, 11]); null = layers stay random.</param>
public sealed record DistillationInitialization(FrontEndParts FrontEnd = FrontEndParts.All, IReadOnlyList<int>? LayerMap = null)
{
    /// <summary>No initialisation from the teacher (random student).</summary>
    public static DistillationInitialization Random { get; } = new(FrontEndParts.None);

    /// <summary>Front-end parts and the first N teacher layers (DistilHuBERT).</summary>
    /// <param name="studentLayers">N, the student's layer count.</param>
    /// <param name="frontEnd">Front-end parts to copy.</param>
    public static DistillationInitialization FirstLayers(int studentLayers, FrontEndParts frontEnd = FrontEndParts.All) =>
        new(frontEnd, LayerMaps.FirstN(studentLayers));

    /// <summary>Front-end parts and every k-th teacher layer (DistilXLSR's layer jumping: k = 3, 4 layers → 2, 5, 8, 11).</summary>
    /// <param name="stride">k.</param>
    /// <param name="studentLayers">The student's layer count.</param>
    /// <param name="frontEnd">Front-end parts to copy.</param>
    public static DistillationInitialization LayerJumping(int stride, int studentLayers, FrontEndParts frontEnd = FrontEndParts.All) =>
        new(frontEnd, LayerMaps.EveryKth(stride, studentLayers));
}
