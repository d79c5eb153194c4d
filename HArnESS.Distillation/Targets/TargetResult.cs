namespace HArnESS.Distillation.Targets;

/// <summary>What <see cref="TargetBuilder.FitAsync"/> fitted and wrote. Dispose it to free the codebook and PCA.</summary>
/// <param name="OutputDir">The folder everything was saved in.</param>
/// <param name="FeatureDir">The feature shards' folder.</param>
/// <param name="Codebook">The k-means centres (in PCA space when <see cref="Pca"/> is set).</param>
/// <param name="CodebookPath">Saved codebook (safetensors).</param>
/// <param name="Pca">The PCA applied before k-means, or null.</param>
/// <param name="PcaPath">Saved PCA, or null.</param>
/// <param name="LabelPath">The <c>.km</c> file aligned with the manifest.</param>
/// <param name="Fit">How the k-means fit went (inertia, steps); read back from <see cref="Manifest"/> when reused.</param>
/// <param name="Shards">The dump's shards (with whether this run recomputed them).</param>
/// <param name="Quality">Phone/cluster purity and PNMI when reference frame labels were given.</param>
/// <param name="Manifest">The <c>targets.json</c> written (what the next iteration reads back).</param>
/// <param name="Reused">The stages (PCA, k-means, labels) an earlier run had finished with the same signature and
/// this run did not recompute.</param>
public sealed record TargetResult(
    string OutputDir, string FeatureDir, KMeansCodebook Codebook, string CodebookPath, Pca? Pca, string? PcaPath,
    string LabelPath, KMeansFit Fit, IReadOnlyList<FeatureShardInfo> Shards, ClusterQualityReport? Quality,
    TargetManifest Manifest, IReadOnlyList<TargetStage> Reused) : IDisposable
{
    /// <summary>Sum of squared distances of the fitted frames to their centres.</summary>
    public double Inertia => Fit.Inertia;

    /// <inheritdoc/>
    public void Dispose()
    {
        Codebook.Dispose();
        Pca?.Dispose();
    }
}
