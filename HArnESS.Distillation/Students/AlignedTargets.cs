using static TorchSharp.torch;

namespace HArnESS.Distillation.Students;

/// <summary>Student predictions and their teacher targets cut to the same frames, ready for
/// <c>RegressionLoss.Compute(Predictions, Targets, ValidFrames, TeacherLayers)</c>. The tensors are views of the
/// student's and teacher's outputs; disposing this disposes the views only.</summary>
public sealed class AlignedTargets : IDisposable
{
    internal AlignedTargets(IReadOnlyList<Tensor> predictions, IReadOnlyList<Tensor> targets, Tensor validFrames, IReadOnlyList<int> teacherLayers)
    {
        Predictions = predictions;
        Targets = targets;
        ValidFrames = validFrames;
        TeacherLayers = teacherLayers;
    }

    /// <summary>N predictions <c>[B, T, D]</c>.</summary>
    public IReadOnlyList<Tensor> Predictions { get; }

    /// <summary>N teacher targets <c>[B, T, D]</c> (detached).</summary>
    public IReadOnlyList<Tensor> Targets { get; }

    /// <summary><c>[B, T]</c> bool, true = the frame is valid in both the student and the teacher.</summary>
    public Tensor ValidFrames { get; }

    /// <summary>The teacher layer of each pair (loss term names).</summary>
    public IReadOnlyList<int> TeacherLayers { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in Predictions) t.Dispose();
        foreach (var t in Targets) t.Dispose();
        ValidFrames.Dispose();
    }
}
