namespace HArnESS.Downstream.Data;

/// <summary>One item of a <see cref="SpeechCommandsCorpus"/> split.</summary>
/// <param name="RelativePath">WAV path relative to the corpus root, <c>/</c>-separated (<c>yes/0a7c2a8d_nohash_0.wav</c>).</param>
/// <param name="Label">Task label: a keyword, the unknown label or the silence label.</param>
/// <param name="Word">The folder the file is in (the spoken word; <c>_background_noise_</c> for silence).</param>
/// <param name="OffsetSamples">First sample to read (non-zero only for silence clips cut from a noise file).</param>
/// <param name="NumSamples">Samples to read (the file's length, or the clip length for silence).</param>
public sealed record SpeechCommandsItem(string RelativePath, string Label, string Word, long OffsetSamples, long NumSamples);
