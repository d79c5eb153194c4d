using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>Position-wise feed-forward: <c>intermediate_dense → GELU → dropout → output_dense → dropout</c>.</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> intermediate_dense;
    private readonly nn.Module<Tensor, Tensor> intermediate_dropout;
    private readonly nn.Module<Tensor, Tensor> output_dense;
    private readonly nn.Module<Tensor, Tensor> output_dropout;
#pragma warning restore IDE1006

    /// <summary>Creates the block.</summary>
    /// <param name="dim">Model width.</param>
    /// <param name="intermediate">Hidden width.</param>
    /// <param name="activationDropout">Dropout after GELU.</param>
    /// <param name="outputDropout">Dropout after the output layer.</param>
    /// <exception cref="HArnessValidationException">A width is out of range (<c>EncoderLimits</c>).</exception>
    public FeedForward(int dim, int intermediate, double activationDropout, double outputDropout) : base(nameof(FeedForward))
    {
        var errors = new ValidationErrors();
        Encoders.EncoderLimits.InRange(errors, dim, 1, Encoders.EncoderLimits.MaxWidth, "HiddenSize");
        Encoders.EncoderLimits.InRange(errors, intermediate, 1, Encoders.EncoderLimits.MaxIntermediateSize, "IntermediateSize");
        errors.ThrowIfAny(nameof(FeedForward));
        intermediate_dense = nn.Linear(dim, intermediate);
        intermediate_dropout = nn.Dropout(activationDropout);
        output_dense = nn.Linear(intermediate, dim);
        output_dropout = nn.Dropout(outputDropout);
        RegisterComponents();
    }

    /// <summary>Applies the block.</summary>
    /// <param name="input"><c>[batch, frames, dim]</c>.</param>
    /// <returns><c>[batch, frames, dim]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.gelu(intermediate_dense.forward(input));
        x = output_dropout.forward(output_dense.forward(intermediate_dropout.forward(x)));
        return x.MoveToOuterDisposeScope();
    }
}
