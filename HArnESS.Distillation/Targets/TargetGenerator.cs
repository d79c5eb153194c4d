using HArnESS.Data;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// Entry point of the target generator: features of a corpus → (PCA) → k-means → unit labels, e.g.
/// <code>
/// using var labels = await TargetGenerator.From(manifest).Layer(teacher, 9).Pca(components: 256).KMeans(500)
///     .Into("runs/it2/targets").FitAsync(progress, ct);
/// </code>
/// </summary>
public static class TargetGenerator
{
    /// <summary>Starts a plan for a manifest.</summary>
    public static TargetBuilder From(Manifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new TargetBuilder(manifest);
    }

    /// <summary>Starts a plan for a manifest file (fairseq tsv).</summary>
    public static TargetBuilder From(string manifestPath) => From(Manifest.Load(manifestPath));
}
