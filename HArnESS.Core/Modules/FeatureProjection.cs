using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>Front-end features to model width: <c>LayerNorm → Linear → Dropout</c> (torchaudio's and HF's
/// <c>feature_projection</c>: <c>layer_norm.*</c>, <c>projection.*</c>).</summary>
public sealed class FeatureProjection : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> layer_norm;
    private readonly nn.Module<Tensor, Tensor> projection;
    private readonly nn.Module<Tensor, Tensor> dropout;
#pragma warning restore IDE1006

    /// <summary>Creates the projection.</summary>
    /// <param name="inFeatures">Front-end feature dim.</param>
    /// <param name="outFeatures">Model width.</param>
    /// <param name="dropoutProbability">Dropout after the linear layer.</param>
    /// <param name="eps">Layer-norm epsilon.</param>
    /// <exception cref="HArnessValidationException">A size is out of range (<c>EncoderLimits</c>).</exception>
    public FeatureProjection(int inFeatures, int outFeatures, double dropoutProbability, double eps = 1e-5)
        : base(nameof(FeatureProjection))
    {
        var errors = new ValidationErrors();
        Encoders.EncoderLimits.InRange(errors, inFeatures, 1, Encoders.EncoderLimits.MaxConvChannels, "FrontEndDim");
        Encoders.EncoderLimits.InRange(errors, outFeatures, 1, Encoders.EncoderLimits.MaxWidth, "HiddenSize");
        errors.ThrowIfAny(nameof(FeatureProjection));
        layer_norm = nn.LayerNorm(inFeatures, eps);
        projection = nn.Linear(inFeatures, outFeatures);
        dropout = nn.Dropout(dropoutProbability);
        RegisterComponents();
    }

    /// <summary>Projects features.</summary>
    /// <param name="input"><c>[batch, frames, in]</c>.</param>
    /// <returns><c>[batch, frames, out]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return dropout.forward(projection.forward(layer_norm.forward(input))).MoveToOuterDisposeScope();
    }
}
