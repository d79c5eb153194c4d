namespace HArnESS.Downstream.Text;

/// <summary>How <see cref="TextNormalizer"/> normalises transcripts before a vocabulary is built or an error rate
/// is scored. The Arabic options follow common Arabic ASR scoring practice (MGB, Common Voice Arabic, ArabicSpeech
/// leaderboards): diacritics and tatweel removed and alef variants unified by default; alef-maqsura → ya and
/// ta-marbuta → ha folding opt-in, because they merge words that differ (على/علي).</summary>
public sealed record TextNormalizationOptions
{
    /// <summary>Remove Arabic diacritics: harakat, tanween, shadda, sukun (U+064B–U+065F), the superscript alef
    /// U+0670 and Quranic annotation marks (U+06D6–U+06ED). Default true.</summary>
    public bool RemoveDiacritics { get; init; } = true;

    /// <summary>Remove tatweel (kashida, U+0640), which only stretches a word. Default true.</summary>
    public bool RemoveTatweel { get; init; } = true;

    /// <summary>Map alef with hamza above/below, madda and wasla (أ إ آ ٱ) to bare alef (ا). Default true.</summary>
    public bool UnifyAlef { get; init; } = true;

    /// <summary>Map alef maqsura (ى, U+0649) and Farsi yeh (ی, U+06CC) to ya (ي). Default false.</summary>
    public bool FoldAlefMaqsura { get; init; }

    /// <summary>Map ta marbuta (ة) to ha (ه). Default false.</summary>
    public bool FoldTaMarbuta { get; init; }

    /// <summary>Map Arabic-Indic and Extended Arabic-Indic digits (٠–٩, ۰–۹) to ASCII digits. Default false.</summary>
    public bool FoldArabicDigits { get; init; }

    /// <summary>Remove punctuation (Unicode categories P*, and symbols S*), e.g. "?", "،", "؟". Default false.</summary>
    public bool RemovePunctuation { get; init; }

    /// <summary>Case of Latin letters. Default <see cref="LatinCase.Keep"/>.</summary>
    public LatinCase LatinCase { get; init; } = LatinCase.Keep;

    /// <summary>No change except white space collapsing (every option off).</summary>
    public static TextNormalizationOptions None { get; } = new()
    {
        RemoveDiacritics = false, RemoveTatweel = false, UnifyAlef = false,
    };
}
