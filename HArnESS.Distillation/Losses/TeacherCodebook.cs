using HArnESS.Modules;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Losses;

/// <summary>A teacher's frozen code space: its <c>final_proj</c> (<c>Linear(teacherDim → finalDim)</c>) and its
/// codebook <c>label_embs_concat</c> <c>[classes, finalDim]</c>, as fairseq HuBERT checkpoints and
/// <see cref="MaskedPredictionHead"/> carry them. The tensors are detached copies: nothing trains them.</summary>
public sealed class TeacherCodebook : IDisposable
{
    /// <summary>State-dict key of the projection weight.</summary>
    public const string FinalProjWeightKey = "final_proj.weight";

    /// <summary>State-dict key of the projection bias.</summary>
    public const string FinalProjBiasKey = "final_proj.bias";

    /// <summary>State-dict key of the codebook.</summary>
    public const string CodebookKey = "label_embs_concat";

    /// <summary>Creates the code space from tensors (copied and detached).</summary>
    /// <param name="finalProjWeight"><c>[finalDim, teacherDim]</c>.</param>
    /// <param name="finalProjBias"><c>[finalDim]</c> or <c>null</c>.</param>
    /// <param name="codebook"><c>[classes, finalDim]</c>.</param>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public TeacherCodebook(Tensor finalProjWeight, Tensor? finalProjBias, Tensor codebook)
    {
        ArgumentNullException.ThrowIfNull(finalProjWeight);
        ArgumentNullException.ThrowIfNull(codebook);
        if (finalProjWeight.dim() != 2)
            throw new ArgumentException($"final_proj.weight must be [finalDim, teacherDim], got {FrameMasks.Shape(finalProjWeight)}.", nameof(finalProjWeight));
        if (codebook.dim() != 2 || codebook.shape[1] != finalProjWeight.shape[0])
            throw new ArgumentException(
                $"The codebook must be [classes, {finalProjWeight.shape[0]}] to match final_proj, got {FrameMasks.Shape(codebook)}.", nameof(codebook));
        if (finalProjBias is not null && (finalProjBias.dim() != 1 || finalProjBias.shape[0] != finalProjWeight.shape[0]))
            throw new ArgumentException($"final_proj.bias must be [{finalProjWeight.shape[0]}], got {FrameMasks.Shape(finalProjBias)}.", nameof(finalProjBias));
        FinalProjWeight = finalProjWeight.detach().clone();
        FinalProjBias = finalProjBias?.detach().clone();
        Codebook = codebook.detach().clone();
    }

    /// <summary><c>[finalDim, teacherDim]</c>.</summary>
    public Tensor FinalProjWeight { get; }

    /// <summary><c>[finalDim]</c>, or <c>null</c> when the projection has no bias.</summary>
    public Tensor? FinalProjBias { get; }

    /// <summary><c>[classes, finalDim]</c>, the frozen code embeddings both sides are compared with.</summary>
    public Tensor Codebook { get; }

    /// <summary>Number of codes K.</summary>
    public int NumClasses => (int)Codebook.shape[0];

    /// <summary>Width of the code space (256 in HuBERT base).</summary>
    public int FinalDim => (int)Codebook.shape[1];

    /// <summary>Width of the teacher's last layer that <c>final_proj</c> takes.</summary>
    public int TeacherDim => (int)FinalProjWeight.shape[1];

    /// <summary>Copies the code space of a masked-prediction head (e.g. a loaded HuBERT teacher's).</summary>
    /// <param name="head">The teacher's head.</param>
    /// <exception cref="HArnessCheckpointException">The head lacks one of the tensors.</exception>
    public static TeacherCodebook FromHead(MaskedPredictionHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in head.named_parameters()) state[name] = p;
        return FromStateDict(state, "", "MaskedPredictionHead");
    }

    /// <summary>Reads the code space from a state dict (fairseq HuBERT keys, optionally under a prefix).</summary>
    /// <param name="state">The tensors by key.</param>
    /// <param name="prefix">Prepended to each key (e.g. <c>"head."</c>); empty for a fairseq model's own keys.</param>
    /// <param name="source">The checkpoint file or model the state came from, for the message.</param>
    /// <exception cref="HArnessCheckpointException">The codebook or the projection is missing ("the teacher has no
    /// codebook": the discriminative loss needs one; use <see cref="CodebookCrossEntropyLoss"/> with k-means labels
    /// instead), or the tensors are mis-shaped.</exception>
    public static TeacherCodebook FromStateDict(IReadOnlyDictionary<string, Tensor> state, string prefix = "", string? source = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(prefix);
        var where = source is null ? "the teacher" : $"the teacher ({source})";
        if (!state.TryGetValue(prefix + CodebookKey, out var codebook))
            throw new HArnessCheckpointException(
                $"Missing codebook: {where} has no '{prefix + CodebookKey}'. The discriminative loss needs the teacher's codebook; " +
                "for a teacher without one use k-means labels with CodebookCrossEntropyLoss.", source);
        if (!state.TryGetValue(prefix + FinalProjWeightKey, out var weight))
            throw new HArnessCheckpointException(
                $"Missing projection: {where} has a codebook but no '{prefix + FinalProjWeightKey}' to project its last layer with.", source);
        state.TryGetValue(prefix + FinalProjBiasKey, out var bias);
        try
        {
            return new TeacherCodebook(weight, bias, codebook);
        }
        catch (ArgumentException ex)
        {
            throw new HArnessCheckpointException($"Mis-shaped code space in {where}: {ex.Message}", source, ex);
        }
    }

    /// <summary>The teacher's last layer through <c>final_proj</c>.</summary>
    /// <param name="teacherLast"><c>[..., teacherDim]</c>.</param>
    /// <returns><c>[..., finalDim]</c>.</returns>
    /// <exception cref="ArgumentException">The width is not <see cref="TeacherDim"/>.</exception>
    public Tensor Project(Tensor teacherLast)
    {
        ArgumentNullException.ThrowIfNull(teacherLast);
        if (teacherLast.dim() < 1 || teacherLast.shape[^1] != TeacherDim)
            throw new ArgumentException($"The teacher's last layer must end in {TeacherDim} features (final_proj's input), got {FrameMasks.Shape(teacherLast)}.",
                nameof(teacherLast));
        var w = FinalProjWeight.to(teacherLast.dtype, teacherLast.device);
        var b = FinalProjBias?.to(teacherLast.dtype, teacherLast.device);
        return nn.functional.linear(teacherLast, w, b);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        FinalProjWeight.Dispose();
        FinalProjBias?.Dispose();
        Codebook.Dispose();
    }
}
