namespace HArnESS.Distillation.Students;

/// <summary>The projection of one student layer to its teacher layer in <see cref="StudentHeadMode.LayerToLayer"/>.</summary>
public enum LayerProjectionKind
{
    /// <summary><c>nn.Linear(studentDim, targetDim)</c> with bias.</summary>
    Linear,

    /// <summary><see cref="HArnESS.Modules.LowRankProjection"/> <c>studentDim → rank → targetDim</c> (no bias on the
    /// first factor, bias on the second), with <see cref="DistillationStudentConfig.ProjectionRank"/>.</summary>
    LowRank,
}
