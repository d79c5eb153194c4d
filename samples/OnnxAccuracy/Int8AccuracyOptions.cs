namespace HArnESS.Samples.OnnxAccuracy;

/// <summary>How <see cref="Int8Accuracy.Run"/> trains the task heads and where it writes the two ONNX models.
/// Defaults train every head full-batch for 300 AdamW steps at learning rate 0.01 on the last hidden state.</summary>
public sealed record Int8AccuracyOptions
{
    /// <summary>A corpus in the demo layout (<c>data/demo</c>): <c>{train,test}.tsv</c> with <c>.wrd</c>, <c>.emo</c>,
    /// <c>.dia</c>, <c>.spk</c> beside them, <c>kws_{train,test}.tsv</c> with <c>.kws</c>, and <c>sv_trials.txt</c>.</summary>
    public required string CorpusDirectory { get; init; }

    /// <summary>Folder for <c>student-fp32.onnx</c> and <c>student-int8.onnx</c> (with their sidecars); created if missing.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Hidden-state index every head reads (0 = input to layer 1); null = the last layer.</summary>
    public int? Layer { get; init; }

    /// <summary>Full-batch AdamW steps per utterance-level head (SER, DID, KWS, SV). Default 300.</summary>
    public int Steps { get; init; } = 300;

    /// <summary>Full-batch AdamW steps of the CTC head. Default 300.</summary>
    public int AsrSteps { get; init; } = 300;

    /// <summary>AdamW learning rate of every head. Default 0.01.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>AdamW decoupled weight decay of every head. Default 0.01.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Width of the speaker embedding (a Linear over the pooled hidden state, trained with AAM-softmax). Default 32.</summary>
    public int EmbeddingDim { get; init; } = 32;

    /// <summary>Seed of the heads' initialisation. Default 1.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>ONNX Runtime intra-op threads (0 = its default). Default 1, so fp32 and int8 run alike.</summary>
    public int IntraOpNumThreads { get; init; } = 1;

    /// <summary>Checks every value; throws <see cref="HArnessValidationException"/> listing all problems.</summary>
    public void Validate()
    {
        var errors = new ValidationErrors();
        errors.Require(!string.IsNullOrWhiteSpace(CorpusDirectory), nameof(CorpusDirectory), "CorpusDirectory is empty.");
        errors.Require(!string.IsNullOrWhiteSpace(OutputDirectory), nameof(OutputDirectory), "OutputDirectory is empty.");
        errors.Require(Layer is null or >= 0, nameof(Layer), $"Layer is {Layer}; must be >= 0 or null.");
        errors.Require(Steps > 0, nameof(Steps), $"Steps is {Steps}; must be > 0.");
        errors.Require(AsrSteps > 0, nameof(AsrSteps), $"AsrSteps is {AsrSteps}; must be > 0.");
        errors.Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"LearningRate is {LearningRate}; must be finite and > 0.");
        errors.Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), $"WeightDecay is {WeightDecay}; must be finite and >= 0.");
        errors.Require(EmbeddingDim > 0, nameof(EmbeddingDim), $"EmbeddingDim is {EmbeddingDim}; must be > 0.");
        errors.Require(IntraOpNumThreads >= 0, nameof(IntraOpNumThreads), $"IntraOpNumThreads is {IntraOpNumThreads}; must be >= 0.");
        errors.ThrowIfAny(nameof(Int8AccuracyOptions));
    }
}
