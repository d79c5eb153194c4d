namespace HArnESS.Data;

/// <summary>What the lines of a <see cref="LabelFile"/> hold; chosen from the file extension unless given.</summary>
public enum LabelKind
{
    /// <summary>One class name per line (<c>.emo</c>, <c>.dia</c>, <c>.spk</c>, <c>.kws</c>, any other extension).</summary>
    Class,

    /// <summary>Integer unit labels per frame, space separated (<c>.km</c>, as HuBERT's k-means targets).</summary>
    Units,

    /// <summary>Letters separated by spaces with <c>|</c> as word boundary (<c>.ltr</c>, fairseq's CTC targets).</summary>
    Letters,

    /// <summary>Words separated by spaces (<c>.wrd</c>).</summary>
    Words,
}
