using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>Multi-head self-attention (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c>, each
/// <c>Linear(dim, dim)</c> with bias). Queries are scaled by <c>head_dim^-0.5</c>; padded keys get an additive
/// mask (torchaudio adds -10000, which underflows to an exact zero weight after softmax).</summary>
public sealed class SelfAttention : nn.Module<Tensor, Tensor?, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> k_proj;
    private readonly nn.Module<Tensor, Tensor> v_proj;
    private readonly nn.Module<Tensor, Tensor> q_proj;
    private readonly nn.Module<Tensor, Tensor> out_proj;
#pragma warning restore IDE1006
    private readonly double _dropout;

    /// <summary>Creates the attention.</summary>
    /// <param name="embedDim">Model width.</param>
    /// <param name="numHeads">Heads; must divide <paramref name="embedDim"/>.</param>
    /// <param name="dropout">Dropout on attention weights (training only).</param>
    /// <exception cref="HArnessConfigException"><paramref name="embedDim"/> is not divisible by <paramref name="numHeads"/>.</exception>
    public SelfAttention(int embedDim, int numHeads, double dropout = 0.0) : base(nameof(SelfAttention))
    {
        if (embedDim is < 1 or > Encoders.EncoderLimits.MaxWidth)
            throw new HArnessConfigException($"Model dim must be in [1, {Encoders.EncoderLimits.MaxWidth}], got {embedDim}.", "HiddenSize");
        if (numHeads <= 0 || embedDim % numHeads != 0)
            throw new HArnessConfigException($"Model dim {embedDim} is not divisible by {numHeads} attention heads.", "NumHeads");
        EmbedDim = embedDim;
        NumHeads = numHeads;
        HeadDim = embedDim / numHeads;
        _dropout = dropout;
        k_proj = nn.Linear(embedDim, embedDim);
        v_proj = nn.Linear(embedDim, embedDim);
        q_proj = nn.Linear(embedDim, embedDim);
        out_proj = nn.Linear(embedDim, embedDim);
        RegisterComponents();
    }

    /// <summary>Model width.</summary>
    public int EmbedDim { get; }

    /// <summary>Attention heads.</summary>
    public int NumHeads { get; }

    /// <summary>Width of one head.</summary>
    public int HeadDim { get; }

    /// <summary>Attends.</summary>
    /// <param name="x"><c>[batch, frames, dim]</c>.</param>
    /// <param name="attentionMask">Additive mask broadcastable to <c>[batch, heads, frames, frames]</c>
    /// (e.g. <c>[batch, 1, 1, frames]</c> with a large negative value on padded keys), or null.</param>
    /// <returns><c>[batch, frames, dim]</c>.</returns>
    public override Tensor forward(Tensor x, Tensor? attentionMask)
    {
        if (x.dim() != 3 || x.shape[2] != EmbedDim)
            throw new ArgumentException($"Expected [batch, frames, {EmbedDim}], got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, NumHeads, HeadDim).transpose(1, 2);
        var k = k_proj.forward(x).view(b, t, NumHeads, HeadDim).transpose(1, 2);
        var v = v_proj.forward(x).view(b, t, NumHeads, HeadDim).transpose(1, 2);
        // Fused kernel; same math as torchaudio's (scaled q) @ k^T + mask → softmax → @ v.
        var o = nn.functional.scaled_dot_product_attention(q, k, v, attentionMask, training ? _dropout : 0.0);
        o = o.transpose(1, 2).reshape(b, t, EmbedDim);
        return out_proj.forward(o).MoveToOuterDisposeScope();
    }
}
