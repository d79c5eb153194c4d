namespace HArnESS.Distillation.Initialization;

/// <summary>How <see cref="PcaInitialization"/> sizes a thin student's feed-forward inner width.</summary>
public enum FfnWidthRule
{
    /// <summary>Keep the teacher's inner width: only the hidden side is projected.</summary>
    KeepAll,

    /// <summary>Keep the <see cref="PcaProjectionOptions.StudentFfnDim"/> inner units whose projected input rows
    /// <c>(W_int P)_j</c> have the largest L2 norms, in their original order; <c>output_dense</c> keeps the matching
    /// columns.</summary>
    TopRowsByNorm,

    /// <summary>Project the inner width through a second orthonormal basis <see cref="PcaProjectionOptions.FfnBasis"/>
    /// <c>Q [teacherFfn, studentFfn]</c> (e.g. from PCA of the teacher's inner activations).</summary>
    Basis,
}
