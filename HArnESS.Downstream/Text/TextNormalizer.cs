using System.Globalization;
using System.Text;

namespace HArnESS.Downstream.Text;

/// <summary>Normalises transcripts (Arabic script and Latin) so that references and hypotheses are compared on the
/// same footing; see <see cref="TextNormalizationOptions"/>. White space always collapses to single spaces and the
/// ends are trimmed. <see cref="Metrics.ErrorRates"/> takes the options and applies them to both sides.</summary>
public static class TextNormalizer
{
    /// <summary>Normalises one transcript.</summary>
    /// <param name="text">The transcript.</param>
    /// <param name="options">What to normalise; null = <see cref="TextNormalizationOptions"/> defaults.</param>
    public static string Normalize(string text, TextNormalizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= new TextNormalizationOptions();
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }
            var r = Map(rune, options);
            if (r is null) continue;
            if (pendingSpace) { sb.Append(' '); pendingSpace = false; }
            sb.Append(r.Value.ToString());
        }
        return sb.ToString();
    }

    private static Rune? Map(Rune r, TextNormalizationOptions o)
    {
        var v = r.Value;
        if (o.RemoveDiacritics && (v is >= 0x064B and <= 0x065F || v == 0x0670 || v is >= 0x06D6 and <= 0x06ED)) return null;
        if (o.RemoveTatweel && v == 0x0640) return null;
        if (o.UnifyAlef && v is 0x0622 or 0x0623 or 0x0625 or 0x0671) return new Rune(0x0627);
        if (o.FoldAlefMaqsura && v is 0x0649 or 0x06CC) return new Rune(0x064A);
        if (o.FoldTaMarbuta && v == 0x0629) return new Rune(0x0647);
        if (o.FoldArabicDigits && v is >= 0x0660 and <= 0x0669) return new Rune('0' + v - 0x0660);
        if (o.FoldArabicDigits && v is >= 0x06F0 and <= 0x06F9) return new Rune('0' + v - 0x06F0);
        if (o.RemovePunctuation)
        {
            var cat = Rune.GetUnicodeCategory(r);
            if (cat is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
                or UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol
                or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol) return null;
        }
        if (v < 0x250 && Rune.IsLetter(r))
        {
            if (o.LatinCase == LatinCase.Upper) return Rune.ToUpperInvariant(r);
            if (o.LatinCase == LatinCase.Lower) return Rune.ToLowerInvariant(r);
        }
        return r;
    }
}
