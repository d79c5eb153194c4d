namespace HArnESS.Data;

/// <summary>One utterance in a planned batch: which manifest entry, and which samples of it (a crop when
/// <see cref="Start"/> is non-zero or <see cref="Count"/> is shorter than the file).</summary>
/// <param name="Index">Entry index in the manifest.</param>
/// <param name="Start">First sample read.</param>
/// <param name="Count">Samples read.</param>
public readonly record struct PlannedItem(int Index, long Start, long Count);
