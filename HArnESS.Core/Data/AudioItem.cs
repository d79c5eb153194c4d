namespace HArnESS.Data;

/// <summary>One utterance read by <see cref="AudioDataset"/>: mono samples at the dataset's rate.</summary>
/// <param name="Index">Entry index in the manifest.</param>
/// <param name="Path">Absolute path of the audio file.</param>
/// <param name="Samples">Mono samples in [-1, 1] (or normalised when the dataset normalises), <c>[time]</c>.</param>
/// <param name="Offset">First sample of the file that <see cref="Samples"/> starts at (non-zero after a crop).</param>
public sealed record AudioItem(int Index, string Path, float[] Samples, long Offset);
