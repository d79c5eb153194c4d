namespace HArnESS.Downstream.Text;

/// <summary>How a <see cref="CharacterVocabulary"/> is built from transcripts and how it treats characters it does
/// not hold.</summary>
public sealed record CharacterVocabularyOptions
{
    /// <summary>Normalisation applied to every transcript before its characters are collected or encoded (the same
    /// must be applied to hypotheses when scoring). Default: <see cref="TextNormalizationOptions"/> defaults.</summary>
    public TextNormalizationOptions Normalization { get; init; } = new();

    /// <summary>When true, a character outside the vocabulary encodes as <see cref="CharacterVocabulary.UnknownSymbol"/>
    /// (which then gets id 2); when false (default) it is a <see cref="HArnessDataException"/> naming the character
    /// and the utterance.</summary>
    public bool MapUnknownCharacters { get; init; }
}
