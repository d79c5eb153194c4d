using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>Additive angular margin softmax (ArcFace; Deng et al. 2019), as speaker verification trains it
/// (voxceleb_trainer's <c>AAMSoftmax</c>, WeSpeaker's <c>ArcMarginProduct</c>): logits <c>s·cos θ_j</c> for the
/// other classes and <c>s·cos(θ_y + m)</c> for the target, with the usual fallback <c>cos θ_y − m·sin m</c> once
/// <c>θ_y + m</c> passes π (where <c>cos θ_y ≤ cos(π − m)</c>) so the target logit keeps decreasing in θ;
/// cross-entropy over them. Checked against a torch reference in the tests.</summary>
public sealed class AamSoftmaxLoss : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly Parameter weight;
#pragma warning restore IDE1006

    /// <summary>Creates the loss with class centres initialised Xavier-normal.</summary>
    /// <param name="embeddingDim">Embedding width.</param>
    /// <param name="numClasses">Number of training speakers.</param>
    /// <param name="margin">Angular margin m in radians, ≥ 0 (0.2 in VoxCeleb recipes).</param>
    /// <param name="scale">Logit scale s, positive (30 in VoxCeleb recipes).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the margin negative or the scale not positive.</exception>
    public AamSoftmaxLoss(int embeddingDim, int numClasses, double margin = 0.2, double scale = 30) : base(nameof(AamSoftmaxLoss))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        if (margin < 0 || !double.IsFinite(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "Must be finite and ≥ 0.");
        if (scale <= 0 || !double.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "Must be finite and positive.");
        Margin = margin;
        Scale = scale;
        NumClasses = numClasses;
        weight = new Parameter(empty(numClasses, embeddingDim));
        nn.init.xavier_normal_(weight);
        RegisterComponents();
    }

    /// <summary>Angular margin m (radians).</summary>
    public double Margin { get; }

    /// <summary>Logit scale s.</summary>
    public double Scale { get; }

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>The class centres <c>[classes, dim]</c> (the module's parameter).</summary>
    public Parameter Weight => weight;

    /// <summary>The margin logits the loss takes the cross-entropy of.</summary>
    /// <param name="embeddings"><c>[batch, dim]</c>.</param>
    /// <param name="labels"><c>[batch]</c> int64 class ids.</param>
    /// <returns><c>[batch, classes]</c>.</returns>
    public Tensor Logits(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var cos = nn.functional.linear(nn.functional.normalize(embeddings, dim: 1), nn.functional.normalize(weight.to_type(embeddings.dtype), dim: 1));
        var sine = (cos * cos).negative().add(Scalars.Of(1.0), Scalars.One).clamp(Scalars.Of(0), Scalars.Of(1)).sqrt();
        using var cosMargin = Math.Cos(Margin).ToScalar();
        using var sinMargin = Math.Sin(Margin).ToScalar();
        var phi = cos.mul(cosMargin) - sine.mul(sinMargin);
        var th = Math.Cos(Math.PI - Margin);
        var mm = Math.Sin(Math.PI - Margin) * Margin;
        using var thS = th.ToScalar();
        using var mmS = mm.ToScalar();
        phi = where(cos.sub(thS) > Scalars.Of(0), phi, cos.sub(mmS));
        var oneHot = nn.functional.one_hot(labels.to_type(ScalarType.Int64), NumClasses).to_type(cos.dtype);
        using var scaleS = Scale.ToScalar();
        return (oneHot * phi).add(oneHot.negative().add(Scalars.One, Scalars.One) * cos, Scalars.One).mul(scaleS).MoveToOuterDisposeScope();
    }

    /// <summary>The loss: mean cross-entropy of <see cref="Logits"/>.</summary>
    /// <param name="embeddings"><c>[batch, dim]</c>.</param>
    /// <param name="labels"><c>[batch]</c> int64 class ids.</param>
    /// <returns>A scalar.</returns>
    public override Tensor forward(Tensor embeddings, Tensor labels)
    {
        using var scope = NewDisposeScope();
        return nn.functional.cross_entropy(Logits(embeddings, labels), labels.to_type(ScalarType.Int64)).MoveToOuterDisposeScope();
    }
}
