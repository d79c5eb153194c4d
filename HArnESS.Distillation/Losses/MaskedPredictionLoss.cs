using HArnESS.Modules;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Losses;

/// <summary>HuBERT's masked-prediction loss. Logits are <c>cos(final_proj(x), e_k) / 0.1</c> (a
/// <see cref="MaskedPredictionHead"/>, as torchaudio's <c>LogitGenerator</c> and fairseq's <c>compute_nce</c>);
/// with <c>CE_m</c>, <c>CE_u</c> the summed cross-entropies over masked and unmasked valid frames and
/// <c>N = [w_m &gt; 0]·n_masked + [w_u &gt; 0]·n_unmasked</c> (fairseq's sample size):
/// <c>sum = w_m·CE_m + w_u·CE_u + w_f·penalty·N</c>, <c>mean = sum / N</c> (0 when N = 0). With the default
/// weights the sum is torchaudio's <c>hubert_loss(reduction="sum")</c>. The penalty is <c>mean(features²)</c> over
/// the whole front-end output tensor, padding included, as torchaudio and fairseq compute it.</summary>
public sealed class MaskedPredictionLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="options">Weights and reduction; <c>null</c> = defaults.</param>
    /// <exception cref="HArnessValidationException">An option is invalid.</exception>
    public MaskedPredictionLoss(MaskedPredictionLossOptions? options = null)
    {
        Options = options ?? new MaskedPredictionLossOptions();
        Options.Validate();
    }

    /// <summary>The options in use.</summary>
    public MaskedPredictionLossOptions Options { get; }

    /// <summary>Computes the loss from ready logits.</summary>
    /// <param name="logits"><c>[batch, frames, classes]</c> cosine logits over the codebook.</param>
    /// <param name="labels"><c>[batch, frames]</c> integer unit labels at the model's frame rate (values at
    /// padded frames are ignored).</param>
    /// <param name="mask"><c>[batch, frames]</c> bool, <c>true</c> = the frame was masked (its input replaced by the
    /// mask embedding).</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool; <c>null</c> = all. Masked padding frames never count.</param>
    /// <param name="features">The front-end output before masking, for the feature penalty; <c>null</c> = no penalty term.</param>
    /// <returns>Terms <c>masked_ce</c> and <c>unmasked_ce</c> (mean cross-entropy per frame of each set, 0 for an
    /// empty set) and <c>feature_penalty</c> (when features are given); <see cref="LossTerms.Total"/> as above.</returns>
    /// <exception cref="ArgumentException">The label length does not match the frames, or a shape is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label at a counted frame is not a code of the codebook.</exception>
    public LossTerms Compute(Tensor logits, Tensor labels, Tensor mask, Tensor? validFrames = null, Tensor? features = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(mask);
        if (logits.dim() != 3)
            throw new ArgumentException($"Logits must be [batch, frames, classes], got {FrameMasks.Shape(logits)}.", nameof(logits));
        var (b, t, k) = (logits.shape[0], logits.shape[1], logits.shape[2]);
        FrameMasks.CheckLabels(labels, b, t, nameof(labels));
        if (mask.dtype != ScalarType.Bool || mask.dim() != 2 || mask.shape[0] != b || mask.shape[1] != t)
            throw new ArgumentException($"The mask must be bool [{b}, {t}], got {mask.dtype} {FrameMasks.Shape(mask)}.", nameof(mask));
        var terms = new List<KeyValuePair<string, Tensor>>();
        Tensor total;
        using (var scope = NewDisposeScope())
        {
            var dev = logits.device;
            var valid = FrameMasks.Resolve(validFrames, b, t, dev, nameof(validFrames));
            var m = valid.logical_and(mask.to(dev));
            var u = valid.logical_and(mask.to(dev).logical_not());
            var counted = Options.UnmaskedWeight > 0 ? valid : m;
            var lab = labels.to(ScalarType.Int64, dev);
            FrameMasks.CheckLabelRange(lab, counted, k, nameof(labels));
            // uncounted valid frames (unmasked, weight 0) still get their label for the unmasked_ce report
            using var maxLabel = (k - 1).ToScalar();
            var safe = where(valid, lab.clamp(Scalars.Of(0), maxLabel), zeros(1, dtype: ScalarType.Int64, device: dev));
            var ce = nn.functional.cross_entropy(logits.reshape(-1, k), safe.reshape(-1), reduction: nn.Reduction.None).reshape(b, t);
            var zero = zeros(1, dtype: ce.dtype, device: dev);
            var nM = m.sum().item<long>();
            var nU = u.sum().item<long>();
            var ceM = where(m, ce, zero).sum();
            var ceU = where(u, ce, zero).sum();
            using var nMS = Math.Max(nM, 1).ToScalar();
            using var nUS = Math.Max(nU, 1).ToScalar();
            terms.Add(new("masked_ce", ceM.div(nMS).MoveToOuterDisposeScope()));
            terms.Add(new("unmasked_ce", ceU.div(nUS).MoveToOuterDisposeScope()));
            long n = (Options.MaskedWeight > 0 ? nM : 0) + (Options.UnmaskedWeight > 0 ? nU : 0);
            using var maskedWeight = Options.MaskedWeight.ToScalar();
            using var unmaskedWeight = Options.UnmaskedWeight.ToScalar();
            var sum = ceM.mul(maskedWeight).add(ceU.mul(unmaskedWeight), Scalars.One);
            if (features is not null)
            {
                var penalty = features.to(ScalarType.Float32).pow(Scalars.Of(2L)).mean();
                terms.Add(new("feature_penalty", penalty.alias().MoveToOuterDisposeScope()));
                using var penaltyWeight = (Options.FeaturePenaltyWeight * n).ToScalar();
                sum = sum.add(penalty.to(sum.dtype).mul(penaltyWeight), Scalars.One);
            }
            using var nS = ((double)n).ToScalar();
            var result = Options.Reduction == LossReduction.Sum ? sum : (n == 0 ? sum.mul(Scalars.Of(0.0)) : sum.div(nS));
            total = result.MoveToOuterDisposeScope();
        }
        return new LossTerms(total, terms);
    }

    /// <summary>Computes the loss through the model's masked-prediction head.</summary>
    /// <param name="head">The head (<c>final_proj</c>, code embeddings, temperature).</param>
    /// <param name="x">The last transformer layer's output <c>[batch, frames, dim]</c>.</param>
    /// <param name="labels"><c>[batch, frames]</c> integer unit labels.</param>
    /// <param name="mask"><c>[batch, frames]</c> bool, <c>true</c> = masked.</param>
    /// <param name="validFrames"><c>[batch, frames]</c> bool; <c>null</c> = all.</param>
    /// <param name="features">The front-end output for the feature penalty, or <c>null</c>.</param>
    /// <returns>As <see cref="Compute(Tensor, Tensor, Tensor, Tensor?, Tensor?)"/>.</returns>
    /// <exception cref="ArgumentException">The label length does not match the frames, or a shape is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label at a counted frame is not a code of the codebook.</exception>
    public LossTerms Compute(MaskedPredictionHead head, Tensor x, Tensor labels, Tensor mask, Tensor? validFrames = null, Tensor? features = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(x);
        using var logits = head.forward(x);
        return Compute(logits, labels, mask, validFrames, features);
    }
}
