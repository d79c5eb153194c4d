using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>One transformer layer (torchaudio's <c>EncoderLayer</c>, HF's <c>encoder.layers.{i}</c>):
/// <c>attention</c>, <c>layer_norm</c>, <c>feed_forward</c>, <c>final_layer_norm</c>.
/// Post-LN (base): <c>x = LN(x + drop(attn(x))); x = finalLN(x + ff(x))</c>.
/// Pre-LN ("stable layer norm", large/XLS-R): <c>x = x + drop(attn(LN(x))); x = x + ff(finalLN(x))</c>.</summary>
public sealed class TransformerLayer : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly SelfAttention attention;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly nn.Module<Tensor, Tensor> layer_norm;
    private readonly FeedForward feed_forward;
    private readonly nn.Module<Tensor, Tensor> final_layer_norm;
#pragma warning restore IDE1006

    /// <summary>Creates the layer.</summary>
    /// <param name="dim">Model width.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="ffn">Feed-forward hidden width.</param>
    /// <param name="layerNormFirst">True for pre-LN, false for post-LN.</param>
    /// <param name="dropout">Residual dropout (attention output and feed-forward output).</param>
    /// <param name="attentionDropout">Dropout on attention weights.</param>
    /// <param name="activationDropout">Dropout inside the feed-forward.</param>
    /// <param name="eps">Layer-norm epsilon.</param>
    public TransformerLayer(int dim, int heads, int ffn, bool layerNormFirst, double dropout, double attentionDropout,
        double activationDropout, double eps = 1e-5) : base(nameof(TransformerLayer))
    {
        LayerNormFirst = layerNormFirst;
        attention = new SelfAttention(dim, heads, attentionDropout);
        this.dropout = nn.Dropout(dropout);
        layer_norm = nn.LayerNorm(dim, eps);
        feed_forward = new FeedForward(dim, ffn, activationDropout, dropout);
        final_layer_norm = nn.LayerNorm(dim, eps);
        RegisterComponents();
    }

    /// <summary>True for pre-LN.</summary>
    public bool LayerNormFirst { get; }

    /// <summary>Applies the layer.</summary>
    /// <param name="x"><c>[batch, frames, dim]</c>.</param>
    /// <param name="attentionMask">Additive key mask <c>[batch, 1, 1, frames]</c>, or null.</param>
    /// <returns><c>[batch, frames, dim]</c>.</returns>
    public override Tensor forward(Tensor x, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor y;
        if (LayerNormFirst)
        {
            y = x.add(dropout.forward(attention.forward(layer_norm.forward(x), attentionMask)), Scalars.One);
            y = y.add(feed_forward.forward(final_layer_norm.forward(y)), Scalars.One);
        }
        else
        {
            y = layer_norm.forward(x.add(dropout.forward(attention.forward(x, attentionMask)), Scalars.One));
            y = final_layer_norm.forward(y.add(feed_forward.forward(y), Scalars.One));
        }
        return y.MoveToOuterDisposeScope();
    }
}
