using HArnESS.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// PCA initialisation of <see cref="LowRankProjection"/> (which lives in <c>HArnESS.Modules</c>), as static extension
/// members: <c>LowRankProjection.FromPca(pca)</c> and <c>LowRankProjection.FromFeatures(source)</c> with
/// <c>using HArnESS.Distillation.Targets;</c>.
/// </summary>
public static class LowRankProjectionPca
{
    extension(LowRankProjection)
    {
        /// <summary>
        /// Initialises from a PCA: <c>down</c> = components with bias <c>−components·mean</c> (so
        /// <see cref="LowRankProjection.Encode"/> is <see cref="Pca.Transform"/> without whitening), <c>up</c> =
        /// components<sup>T</sup> with bias = mean, so the module starts as the rank-r PCA reconstruction <c>D → r → D</c>.
        /// </summary>
        public static LowRankProjection FromPca(Pca pca)
        {
            ArgumentNullException.ThrowIfNull(pca);
            var m = new LowRankProjection(pca.InputDim, pca.ComponentCount, pca.InputDim, downBias: true, upBias: true);
            using (torch.no_grad())
            using (var scope = NewDisposeScope())
            {
                var comps = pca.Components.cpu();
                var mean = pca.Mean.cpu();
                m.Down.weight!.copy_(comps);
                m.Down.bias!.copy_(-comps.mv(mean));
                m.Up.weight!.copy_(comps.t());
                m.Up.bias!.copy_(mean);
            }
            return m;
        }

        /// <summary>Fits a PCA on teacher features and initialises from it (<c>FromPca</c>).</summary>
        /// <param name="features">Teacher frames.</param>
        /// <param name="rank">Rank by number, or null to use <paramref name="varianceThreshold"/>.</param>
        /// <param name="varianceThreshold">Rank = fewest components explaining this fraction of the variance.</param>
        /// <param name="cancellationToken">Stops the PCA pass.</param>
        public static LowRankProjection FromFeatures(IFeatureSource features, int? rank = null, double? varianceThreshold = null, CancellationToken cancellationToken = default)
        {
            using var pca = Pca.Fit(features, new PcaOptions { Components = rank, VarianceThreshold = varianceThreshold }, torch.CPU, cancellationToken);
            return FromPca(pca);
        }
    }
}
