using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>HuBERT's masked-prediction head: <c>final_proj</c> (<c>Linear(dim, finalDim)</c>) and the code
/// embeddings <c>label_embs_concat</c> <c>[classes, finalDim]</c>; logits are cosine similarities divided by
/// the temperature (0.1), so cross-entropy over them with the unit label is HuBERT's loss.</summary>
public sealed class MaskedPredictionHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> final_proj;
    private readonly Parameter label_embs_concat;
#pragma warning restore IDE1006

    /// <summary>Creates the head; code embeddings start uniform in [0, 1) as in fairseq/torchaudio.</summary>
    /// <param name="dim">Encoder width.</param>
    /// <param name="numClasses">Number of unit classes K.</param>
    /// <param name="finalDim">Embedding dim (256 in HuBERT base, 768 in large).</param>
    /// <param name="logitTemperature">Divisor of the cosine similarities.</param>
    /// <exception cref="HArnessConfigException">A value is non-positive or past its limit.</exception>
    public MaskedPredictionHead(int dim, int numClasses, int finalDim = 256, double logitTemperature = 0.1)
        : base(nameof(MaskedPredictionHead))
    {
        if (dim is <= 0 or > Encoders.EncoderLimits.MaxWidth)
            throw new HArnessConfigException($"Encoder dim must be in [1, {Encoders.EncoderLimits.MaxWidth}], got {dim}.", nameof(dim));
        if (numClasses is <= 0 or > MaxClasses)
            throw new HArnessConfigException($"Class count must be in [1, {MaxClasses}], got {numClasses}.", nameof(numClasses));
        if (finalDim is <= 0 or > Encoders.EncoderLimits.MaxWidth)
            throw new HArnessConfigException($"Final dim must be in [1, {Encoders.EncoderLimits.MaxWidth}], got {finalDim}.", nameof(finalDim));
        if (logitTemperature <= 0) throw new HArnessConfigException($"Logit temperature must be positive, got {logitTemperature}.", nameof(logitTemperature));
        NumClasses = numClasses;
        LogitTemperature = logitTemperature;
        final_proj = nn.Linear(dim, finalDim);
        label_embs_concat = new Parameter(rand(numClasses, finalDim));
        RegisterComponents();
    }

    /// <summary>Most unit classes a head may have (HuBERT uses 100–2000; 1,048,576 bounds the code table).</summary>
    public const int MaxClasses = 1 << 20;

    /// <summary>Number of unit classes.</summary>
    public int NumClasses { get; }

    /// <summary>Divisor of the cosine similarities (0.1 in HuBERT).</summary>
    public double LogitTemperature { get; }

    /// <summary>Cosine logits over all classes.</summary>
    /// <param name="hidden">Encoder output <c>[..., dim]</c> (e.g. the masked frames <c>[n, dim]</c>).</param>
    /// <returns><c>[..., classes]</c>: <c>cos(final_proj(h), e_k) / temperature</c>.</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var p = nn.functional.normalize(final_proj.forward(hidden), p: 2, dim: -1, eps: 1e-8);
        var e = nn.functional.normalize(label_embs_concat, p: 2, dim: -1, eps: 1e-8);
        return (matmul(p, e.t()) / LogitTemperature).MoveToOuterDisposeScope();
    }
}
