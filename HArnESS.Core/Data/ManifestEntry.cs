namespace HArnESS.Data;

/// <summary>One line of a fairseq manifest: an audio file relative to the manifest root and its length in samples.</summary>
/// <param name="RelativePath">Path of the file relative to <see cref="Manifest.Root"/> (written with <c>/</c>); an absolute path is kept as it is.</param>
/// <param name="NumSamples">Number of samples (frames) in the file, as written by fairseq's <c>wav2vec_manifest.py</c>.</param>
public sealed record ManifestEntry(string RelativePath, long NumSamples);
