using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>The transformer stack with its convolutional positional embedding (HF's <c>encoder</c>:
/// <c>pos_conv_embed.conv.*</c>, <c>layer_norm.*</c>, <c>layers.{i}.*</c>).
/// Post-LN (base): <c>x = LN(x + pos(x))</c> before the layers. Pre-LN (large, XLS-R): <c>x = x + pos(x)</c>
/// before the layers and <c>LN</c> after the last one.</summary>
public sealed class TransformerEncoder : nn.Module
{
    /// <summary>The additive value torchaudio puts on padded keys.</summary>
    public const float MaskValue = -10000f;

#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly ConvolutionalPositionalEmbedding pos_conv_embed;
    private readonly nn.Module<Tensor, Tensor> layer_norm;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly ModuleList<TransformerLayer> layers;
#pragma warning restore IDE1006

    /// <summary>Creates the stack.</summary>
    /// <param name="dim">Model width.</param>
    /// <param name="numLayers">Transformer layers (0 allowed: positional embedding only).</param>
    /// <param name="heads">Attention heads; must divide <paramref name="dim"/>.</param>
    /// <param name="ffn">Feed-forward hidden width.</param>
    /// <param name="layerNormFirst">Pre-LN when true, post-LN when false.</param>
    /// <param name="posConvKernel">Positional conv kernel.</param>
    /// <param name="posConvGroups">Positional conv groups.</param>
    /// <param name="dropout">Residual dropout (also applied after the positional embedding).</param>
    /// <param name="attentionDropout">Dropout on attention weights.</param>
    /// <param name="activationDropout">Dropout inside feed-forwards.</param>
    /// <param name="layerDrop">Probability of skipping each layer in training.</param>
    /// <param name="eps">Layer-norm epsilon.</param>
    /// <exception cref="HArnessValidationException">A size is out of range (<c>EncoderLimits</c>).</exception>
    public TransformerEncoder(int dim, int numLayers, int heads, int ffn, bool layerNormFirst, int posConvKernel,
        int posConvGroups, double dropout, double attentionDropout, double activationDropout, double layerDrop,
        double eps = 1e-5) : base(nameof(TransformerEncoder))
    {
        var errors = new ValidationErrors();
        Encoders.EncoderLimits.InRange(errors, dim, 1, Encoders.EncoderLimits.MaxWidth, "HiddenSize");
        Encoders.EncoderLimits.InRange(errors, numLayers, 0, Encoders.EncoderLimits.MaxLayers, "NumLayers");
        Encoders.EncoderLimits.InRange(errors, ffn, 1, Encoders.EncoderLimits.MaxIntermediateSize, "IntermediateSize");
        Encoders.EncoderLimits.InRange(errors, posConvKernel, 1, Encoders.EncoderLimits.MaxPosConvKernel, "PosConvKernel");
        errors.ThrowIfAny(nameof(TransformerEncoder));
        LayerNormFirst = layerNormFirst;
        LayerDrop = layerDrop;
        pos_conv_embed = new ConvolutionalPositionalEmbedding(dim, posConvKernel, posConvGroups);
        layer_norm = nn.LayerNorm(dim, eps);
        this.dropout = nn.Dropout(dropout);
        layers = new ModuleList<TransformerLayer>();
        for (var i = 0; i < numLayers; i++)
            layers.Add(new TransformerLayer(dim, heads, ffn, layerNormFirst, dropout, attentionDropout, activationDropout, eps));
        RegisterComponents();
    }

    /// <summary>True for pre-LN layers (final layer norm after the stack).</summary>
    public bool LayerNormFirst { get; }

    /// <summary>Probability of skipping a layer in training mode.</summary>
    public double LayerDrop { get; }

    /// <summary>Number of transformer layers.</summary>
    public int NumLayers => layers.Count;

    /// <summary>Runs the stack and returns every hidden state, HF style.</summary>
    /// <param name="x">Projected features <c>[batch, frames, dim]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, true = padding; padded frames are zeroed first and
    /// masked as attention keys. Null when every frame is valid.</param>
    /// <param name="stopAtLayer">Run only layers 1..n (1 ≤ n ≤ layers); null = all.</param>
    /// <returns><c>n + 1</c> tensors <c>[batch, frames, dim]</c>: [0] is the input to layer 1 (post-LN: after
    /// <c>LN(x + pos(x))</c>; pre-LN: <c>x + pos(x)</c>, not normalised), [i] is the output of layer i. For pre-LN,
    /// when the last layer is reached its output gets the final <c>encoder.layer_norm</c> (HF's
    /// <c>last_hidden_state</c>, torchaudio's <c>forward</c>); when stopping earlier nothing is normalised
    /// (torchaudio's <c>extract_features</c>). A layer skipped by layer drop repeats its input.</returns>
    public List<Tensor> Forward(Tensor x, Tensor? paddingMask, int? stopAtLayer = null)
    {
        var stop = stopAtLayer ?? NumLayers;
        if (stop < 0 || stop > NumLayers)
            throw new ArgumentOutOfRangeException(nameof(stopAtLayer), stop, $"Must be between 0 and {NumLayers}.");
        var states = new List<Tensor>(stop + 1);
        using var scope = NewDisposeScope();
        Tensor? mask = null;
        if (paddingMask is not null)
        {
            x = x.masked_fill(paddingMask.unsqueeze(-1), Scalars.Of(0.0));
            mask = zeros(paddingMask.shape[0], 1, 1, paddingMask.shape[1], dtype: x.dtype, device: x.device)
                .masked_fill(paddingMask.view(paddingMask.shape[0], 1, 1, paddingMask.shape[1]), Scalars.Of(MaskValue));
        }
        x = x.add(pos_conv_embed.forward(x), Scalars.One);
        if (!LayerNormFirst) x = layer_norm.forward(x);
        x = dropout.forward(x);
        states.Add(x);
        for (var i = 0; i < stop; i++)
        {
            var skip = training && LayerDrop > 0 && rand(1).item<float>() < LayerDrop;
            // A skipped layer repeats its input; alias() gives the list a distinct handle to own.
            x = skip ? x.alias() : layers[i].forward(x, mask);
            if (LayerNormFirst && i == NumLayers - 1) x = layer_norm.forward(x);
            states.Add(x);
        }
        foreach (var s in states) s.MoveToOuterDisposeScope();
        return states;
    }
}
