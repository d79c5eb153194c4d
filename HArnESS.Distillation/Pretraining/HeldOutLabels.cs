using System.Globalization;
using HArnESS.Data;
using HArnESS.Distillation.Targets;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Pretraining;

/// <summary>Labels utterances the k-means was not fitted on (a held-out split) with a fitted codebook: the same
/// features (<see cref="IUtteranceFeatureReader"/>), the same optional PCA, nearest centre per frame, one
/// <c>.km</c> line per manifest entry. What held-out masked-prediction accuracy is measured against.</summary>
public static class HeldOutLabels
{
    /// <summary>Writes the <c>.km</c> file (atomically) and returns the number of lines.</summary>
    /// <param name="reader">The feature reader the codebook was fitted on (MFCC-39 or a teacher layer).</param>
    /// <param name="pca">The PCA applied before k-means, or null.</param>
    /// <param name="codebook">The k-means centres.</param>
    /// <param name="manifest">The held-out utterances.</param>
    /// <param name="path">The label file to write.</param>
    /// <param name="audio">How the audio is read (the same options the fit used); null = defaults.</param>
    /// <param name="cancellationToken">Checked between utterances.</param>
    /// <exception cref="HArnessDataException">An utterance is unreadable (named by the loader).</exception>
    /// <exception cref="ArgumentException">The features (after PCA) are not as wide as the codebook.</exception>
    public static int Write(IUtteranceFeatureReader reader, Pca? pca, KMeansCodebook codebook, Manifest manifest, string path,
        AudioDatasetOptions? audio = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(codebook);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var width = pca?.ComponentCount ?? reader.Dimension;
        if (width != codebook.Dimension)
            throw new ArgumentException($"The features are {width} wide{(pca is null ? "" : " after PCA")} but the codebook's centres are {codebook.Dimension} wide.", nameof(codebook));
        var lines = new string[manifest.Count];
        var dataset = new AudioDataset(manifest, audio);
        var loader = new AudioLoader(dataset, new AudioLoaderOptions { BatchSize = 1, Shuffle = false, BucketByLength = false, Crop = CropMode.Start, Prefetch = 0 });
        foreach (var batch in loader)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var b = batch;
            using var scope = NewDisposeScope();
            var features = reader.Read(b, cancellationToken);
            for (var r = 0; r < features.Count; r++)
            {
                var f = pca is null ? features[r] : pca.Transform(features[r]);
                var units = f.shape[0] == 0 ? [] : codebook.Predict(f).cpu().data<long>().ToArray();
                lines[b.Indices[r]] = string.Join(' ', units.Select(u => u.ToString(CultureInfo.InvariantCulture)));
            }
        }
        LabelFile.Save(path, lines);
        return lines.Length;
    }
}
