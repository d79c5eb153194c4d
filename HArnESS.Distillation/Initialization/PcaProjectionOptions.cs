using static TorchSharp.torch;

namespace HArnESS.Distillation.Initialization;

/// <summary>Options of <see cref="PcaInitialization.Project"/>.</summary>
public sealed record PcaProjectionOptions
{
    /// <summary>How the feed-forward inner width is reduced (default <see cref="FfnWidthRule.KeepAll"/>).</summary>
    public FfnWidthRule FfnRule { get; init; } = FfnWidthRule.KeepAll;

    /// <summary>The student's inner width for <see cref="FfnWidthRule.TopRowsByNorm"/>; at most the teacher's.</summary>
    public int? StudentFfnDim { get; init; }

    /// <summary>The inner-width basis <c>Q [teacherFfn, studentFfn]</c> (orthonormal columns) for
    /// <see cref="FfnWidthRule.Basis"/>.</summary>
    public Tensor? FfnBasis { get; init; }

    /// <summary>Largest allowed <c>|PᵀP − I|</c> entry when checking a basis is orthonormal (default 1e-4).</summary>
    public double OrthonormalityTolerance { get; init; } = 1e-4;

    /// <summary>Throws <see cref="HArnessValidationException"/> listing every invalid option.</summary>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Enum.IsDefined(FfnRule), nameof(FfnRule), $"FfnRule must be an FfnWidthRule, got {(int)FfnRule}.");
        e.Require(FfnRule != FfnWidthRule.TopRowsByNorm || StudentFfnDim is > 0, nameof(StudentFfnDim),
            $"FfnRule TopRowsByNorm needs a positive StudentFfnDim, got {StudentFfnDim?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}.");
        e.Require(FfnRule != FfnWidthRule.Basis || FfnBasis is { } q && q.dim() == 2, nameof(FfnBasis),
            "FfnRule Basis needs FfnBasis, a 2-D tensor [teacherFfn, studentFfn].");
        e.Require(OrthonormalityTolerance > 0, nameof(OrthonormalityTolerance), $"OrthonormalityTolerance must be positive, got {OrthonormalityTolerance}.");
        e.ThrowIfAny(nameof(PcaProjectionOptions));
    }
}
