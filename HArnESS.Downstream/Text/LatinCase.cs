namespace HArnESS.Downstream.Text;

/// <summary>What <see cref="TextNormalizer"/> does with the case of Latin letters.</summary>
public enum LatinCase
{
    /// <summary>Leave the case as written.</summary>
    Keep,

    /// <summary>Upper-case (as LibriSpeech and the demo corpus write English).</summary>
    Upper,

    /// <summary>Lower-case.</summary>
    Lower,
}
