using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Losses;

/// <summary>Regression of predicted layers onto teacher layers over padded <c>[batch, frames, dim]</c> tensors:
/// DistilHuBERT's L1 + λ·mean(−log σ(cos)), MSE or 1 − cos (see <see cref="RegressionLossOptions"/>). Only
/// valid frames count: padded frames are zeroed before any arithmetic, so neither their values (even NaN) nor their
/// gradients reach the result. With every frame valid and default options the total equals s3prl's
/// <c>DistillerForPretrain.compute_loss</c> (<c>rec_loss + cosine_loss · sim_loss</c>, feature penalty aside).</summary>
public sealed class RegressionLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="options">The terms and weights; <c>null</c> = <see cref="RegressionLossOptions.DistilHubert"/>.</param>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public RegressionLoss(RegressionLossOptions? options = null)
    {
        Options = options ?? RegressionLossOptions.DistilHubert;
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public RegressionLossOptions Options { get; }

    /// <summary>Computes the loss over N predicted layers.</summary>
    /// <param name="predictions">N student predictions, each <c>[batch, frames, dim_l]</c>.</param>
    /// <param name="targets">N teacher layers (or their PCA projections), shaped as the predictions; treated as
    /// constants (detached).</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool, <c>true</c> = the frame counts
    /// (<see cref="FrameMasks.FromLengths"/>); <c>null</c> = every frame counts.</param>
    /// <param name="layerIds">A name per layer for the terms (e.g. the teacher layers 4, 8, 12); <c>null</c> =
    /// 1..N.</param>
    /// <param name="features">The student's front-end output for the feature penalty (mean of squares over the
    /// whole tensor, as s3prl); <c>null</c> = no penalty term.</param>
    /// <returns>Terms <c>rec_l{id}</c> (when <see cref="RegressionLossOptions.Reconstruction"/> is not None) and
    /// <c>sim_l{id}</c> (when <see cref="RegressionLossOptions.Similarity"/> is not None) per layer, unweighted;
    /// <see cref="LossTerms.Total"/> = <c>Σ_l w_l (rec_l + λ sim_l)</c>, plus <c>FeaturePenaltyWeight · feat_pen</c>
    /// and the term <c>feat_pen</c> when features are given.</returns>
    /// <exception cref="ArgumentException">No layer, counts differ, shapes differ or are not 3-D, the weights or
    /// ids do not match the layer count, the mask has the wrong shape, or no frame is valid.</exception>
    public LossTerms Compute(IReadOnlyList<Tensor> predictions, IReadOnlyList<Tensor> targets, Tensor? validFrames = null,
        IReadOnlyList<int>? layerIds = null, Tensor? features = null)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        var n = predictions.Count;
        if (n == 0) throw new ArgumentException("At least one predicted layer is needed.", nameof(predictions));
        if (targets.Count != n)
            throw new ArgumentException($"{n} predicted layers but {targets.Count} target layers.", nameof(targets));
        if (layerIds is not null && layerIds.Count != n)
            throw new ArgumentException($"{n} predicted layers but {layerIds.Count} layer ids.", nameof(layerIds));
        if (layerIds is not null && layerIds.Distinct().Count() != n)
            throw new ArgumentException($"Layer ids must be distinct, got [{string.Join(", ", layerIds)}].", nameof(layerIds));
        var weights = Options.LayerWeights;
        if (weights is not null && weights.Count != n)
            throw new ArgumentException($"{n} predicted layers but Options.LayerWeights has {weights.Count} weights.", nameof(predictions));
        for (var i = 0; i < n; i++)
        {
            var p = predictions[i] ?? throw new ArgumentNullException(nameof(predictions), $"predictions[{i}] is null.");
            var t = targets[i] ?? throw new ArgumentNullException(nameof(targets), $"targets[{i}] is null.");
            if (p.dim() != 3)
                throw new ArgumentException($"predictions[{i}] must be [batch, frames, dim], got {FrameMasks.Shape(p)}.", nameof(predictions));
            if (!p.shape.SequenceEqual(t.shape))
                throw new ArgumentException($"predictions[{i}] is {FrameMasks.Shape(p)} but targets[{i}] is {FrameMasks.Shape(t)}.", nameof(targets));
            if (p.shape[0] != predictions[0].shape[0] || p.shape[1] != predictions[0].shape[1])
                throw new ArgumentException(
                    $"Every layer must share [batch, frames]: predictions[0] is {FrameMasks.Shape(predictions[0])}, predictions[{i}] is {FrameMasks.Shape(p)}.",
                    nameof(predictions));
        }

        var batch = predictions[0].shape[0];
        var frames = predictions[0].shape[1];
        var terms = new List<KeyValuePair<string, Tensor>>();
        Tensor total;
        using (var scope = NewDisposeScope())
        {
            var valid = FrameMasks.Resolve(validFrames, batch, frames, predictions[0].device, nameof(validFrames));
            var count = valid.sum().item<long>();
            if (count == 0) throw new ArgumentException("No frame is valid: the loss would divide by zero.", nameof(validFrames));
            var dtype = predictions[0].dtype;
            var validF = valid.to(dtype);
            var valid3 = valid.unsqueeze(-1);
            Tensor? sum = null;
            for (var i = 0; i < n; i++)
            {
                var id = layerIds?[i] ?? i + 1;
                var w = weights?[i] ?? 1.0 / n;
                var zero = zeros(1, dtype: dtype, device: predictions[i].device);
                var p = where(valid3, predictions[i], zero);
                var y = where(valid3, targets[i].detach().to(dtype), zero);
                var dim = p.shape[2];
                Tensor? layer = null;
                if (Options.Reconstruction != ReconstructionKind.None)
                {
                    var diff = p - y;
                    var e = Options.Reconstruction == ReconstructionKind.L1 ? diff.abs() : diff.pow(Scalars.Of(2L));
                    // padded frames are zero in both, so their error is exactly zero
                    using var recDenominator = (count * (double)dim).ToScalar();
                    var rec = e.sum().div(recDenominator);
                    terms.Add(new($"rec_l{id}", rec.MoveToOuterDisposeScope()));
                    layer = rec;
                }
                if (Options.Similarity != SimilarityKind.None)
                {
                    var cos = nn.functional.cosine_similarity(p, y, dim: -1, eps: Options.CosineEpsilon);
                    var perFrame = Options.Similarity == SimilarityKind.NegLogSigmoidCosine
                        ? -nn.functional.logsigmoid(cos)
                        : cos.neg().add(Scalars.Of(1.0), Scalars.One);
                    using var countS = ((double)count).ToScalar();
                    var sim = (perFrame * validF).sum().div(countS);
                    terms.Add(new($"sim_l{id}", sim.MoveToOuterDisposeScope()));
                    using var simWeight = Options.SimilarityWeight.ToScalar();
                    layer = layer is null ? sim.mul(simWeight) : layer.add(sim.mul(simWeight), Scalars.One);
                }
                using var wS = w.ToScalar();
                var weighted = layer!.mul(wS);
                sum = sum is null ? weighted : sum.add(weighted, Scalars.One);
            }
            if (features is not null)
            {
                var penalty = features.to(ScalarType.Float32).pow(Scalars.Of(2L)).mean();
                terms.Add(new("feat_pen", penalty.alias().MoveToOuterDisposeScope()));
                using var penaltyWeight = Options.FeaturePenaltyWeight.ToScalar();
                sum = sum!.add(penalty.to(sum!.dtype).mul(penaltyWeight), Scalars.One);
            }
            total = sum!.MoveToOuterDisposeScope();
        }
        return new LossTerms(total, terms);
    }
}
