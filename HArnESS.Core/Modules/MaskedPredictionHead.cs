using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>HuBERT's masked-prediction head: <c>final_proj</c> (<c>Linear(dim, finalDim)</c>) and the code
/// embeddings <c>label_embs_concat</c> <c>[classes, finalDim]</c>; logits are cosine similarities divided by
/// the temperature (0.1), so cross-entropy over them with the unit label is HuBERT's loss.</summary>
public sealed class MaskedPredictionHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly TorchSharp.Modules.Linear final_proj;
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

    /// <summary>Encoder width <c>final_proj</c> reads.</summary>
    public int Dim => (int)final_proj.weight!.shape[1];

    /// <summary>Width of the code space (<c>final_proj</c>'s output, the codebook's columns).</summary>
    public int FinalDim => (int)final_proj.weight!.shape[0];

    /// <summary>
    /// Builds a head from HuBERT pretraining tensors (<c>final_proj.weight</c> <c>[finalDim, dim]</c>, optional
    /// <c>final_proj.bias</c>, <c>label_embs_concat</c> <c>[classes, finalDim]</c>), e.g.
    /// <c>CheckpointContents.HeadStateDict</c> of a fairseq HuBERT checkpoint. One codebook only: a checkpoint
    /// trained on several label sets (fairseq's <c>final_proj</c> of <c>finalDim × sets</c> outputs) is refused.
    /// </summary>
    /// <param name="state">Tensors by head name.</param>
    /// <param name="logitTemperature">Divisor of the cosine similarities (fairseq's <c>logit_temp</c>, 0.1).</param>
    /// <param name="source">The checkpoint, for messages.</param>
    /// <returns>The head (on the tensors' device and dtype), or null when <paramref name="state"/> has neither
    /// <c>final_proj.weight</c> nor <c>label_embs_concat</c> (a model without a codebook).</returns>
    /// <exception cref="HArnessCheckpointException">Only one of the two is present, or the shapes do not fit one
    /// codebook (the keys and shapes named).</exception>
    public static MaskedPredictionHead? FromStateDict(IReadOnlyDictionary<string, Tensor> state, double logitTemperature = 0.1, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.TryGetValue("final_proj.weight", out var w);
        state.TryGetValue("final_proj.bias", out var b);
        state.TryGetValue("label_embs_concat", out var e);
        if (w is null && e is null) return null;
        var where = source ?? "(state dict)";
        static string S(Tensor t) => $"[{string.Join(", ", t.shape)}]";
        if (w is null || e is null)
            throw new HArnessCheckpointException(
                $"Checkpoint '{where}' has {(w is null ? "label_embs_concat but no final_proj.weight" : "final_proj.weight but no label_embs_concat")}: a masked-prediction head needs both.", source);
        if (w.dim() != 2 || e.dim() != 2)
            throw new HArnessCheckpointException($"Checkpoint '{where}': final_proj.weight {S(w)} and label_embs_concat {S(e)} must both be 2-D.", source);
        if (w.shape[0] != e.shape[1])
            throw new HArnessCheckpointException(
                $"Checkpoint '{where}': final_proj.weight is {S(w)} but label_embs_concat is {S(e)}; one codebook needs final_proj's outputs ({w.shape[0]}) to equal the code width ({e.shape[1]}) (checkpoints trained on several label sets are not supported).", source);
        if (b is not null && (b.dim() != 1 || b.shape[0] != w.shape[0]))
            throw new HArnessCheckpointException($"Checkpoint '{where}': final_proj.bias is {S(b)}, expected [{w.shape[0]}].", source);
        if (e.shape[0] is < 1 or > MaxClasses || w.shape[1] is < 1 or > Encoders.EncoderLimits.MaxWidth || w.shape[0] > Encoders.EncoderLimits.MaxWidth)
            throw new HArnessCheckpointException($"Checkpoint '{where}': head shapes final_proj.weight {S(w)}, label_embs_concat {S(e)} are past the limits.", source);
        var head = new MaskedPredictionHead((int)w.shape[1], (int)e.shape[0], (int)w.shape[0], logitTemperature);
        using (no_grad())
        {
            head.final_proj.weight!.copy_(w);
            if (b is not null) head.final_proj.bias!.copy_(b);
            else head.final_proj.bias!.zero_();
            head.label_embs_concat.copy_(e);
        }
        return head.to(w.dtype).to(w.device);
    }

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
        using var temperature = LogitTemperature.ToScalar();
        return matmul(p, e.t()).div(temperature).MoveToOuterDisposeScope();
    }
}
