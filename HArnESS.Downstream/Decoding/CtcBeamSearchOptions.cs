namespace HArnESS.Downstream.Decoding;

/// <summary>Options of <see cref="CtcPrefixBeamSearch"/>.</summary>
public sealed record CtcBeamSearchOptions
{
    /// <summary>Prefixes kept after every frame, ≥ 1. Default 16.</summary>
    public int BeamWidth { get; init; } = 16;

    /// <summary>Hypotheses returned (best first), in [1, <see cref="BeamWidth"/>]. Default 1.</summary>
    public int NBest { get; init; } = 1;

    /// <summary>Per frame, tokens whose log-probability is below the frame's best by more than this are not
    /// extended (∞ = extend all). Default ∞.</summary>
    public double TokenPruneLogProb { get; init; } = double.PositiveInfinity;

    /// <summary>Id of the blank. Default 0 (as <see cref="Text.CharacterVocabulary"/>).</summary>
    public int Blank { get; init; }

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">A value is out of range.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(BeamWidth >= 1, nameof(BeamWidth), $"{nameof(BeamWidth)} must be ≥ 1, got {BeamWidth}.");
        e.Require(NBest >= 1 && NBest <= BeamWidth, nameof(NBest), $"{nameof(NBest)} must be in [1, {nameof(BeamWidth)} = {BeamWidth}], got {NBest}.");
        e.Require(TokenPruneLogProb > 0, nameof(TokenPruneLogProb), $"{nameof(TokenPruneLogProb)} must be positive, got {TokenPruneLogProb}.");
        e.Require(Blank >= 0, nameof(Blank), $"{nameof(Blank)} must be ≥ 0, got {Blank}.");
        e.ThrowIfAny(nameof(CtcBeamSearchOptions));
    }
}
