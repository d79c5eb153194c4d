using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Downstream.Heads;

/// <summary>The CTC output layer (fairseq's <c>Wav2VecCtc</c> projection): dropout, <c>Linear(dim, vocab)</c>,
/// log-softmax; and the CTC loss over it.</summary>
public sealed class CtcHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly nn.Module<Tensor, Tensor> proj;
#pragma warning restore IDE1006

    /// <summary>Creates the head.</summary>
    /// <param name="inputDim">Feature width.</param>
    /// <param name="vocabSize">Tokens including the blank (<c>CharacterVocabulary.Count</c>).</param>
    /// <param name="dropoutRate">Dropout on the features (fairseq's <c>final_dropout</c>).</param>
    /// <param name="blank">Blank id.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the blank is outside the vocabulary, or dropout is outside [0, 1).</exception>
    public CtcHead(int inputDim, int vocabSize, double dropoutRate = 0.0, int blank = 0) : base(nameof(CtcHead))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDim);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 2);
        if ((uint)blank >= (uint)vocabSize) throw new ArgumentOutOfRangeException(nameof(blank), blank, $"Must be in [0, {vocabSize}).");
        if (dropoutRate is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropoutRate), dropoutRate, "Must be in [0, 1).");
        dropout = nn.Dropout(dropoutRate);
        proj = nn.Linear(inputDim, vocabSize);
        VocabSize = vocabSize;
        Blank = blank;
        RegisterComponents();
    }

    /// <summary>Output size (tokens including the blank).</summary>
    public int VocabSize { get; }

    /// <summary>Blank id.</summary>
    public int Blank { get; }

    /// <summary>Frame log-probabilities.</summary>
    /// <param name="features"><c>[batch, frames, dim]</c>.</param>
    /// <returns><c>[batch, frames, vocab]</c> log-softmax.</returns>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return proj.forward(dropout.forward(features)).log_softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>CTC loss (PyTorch's <c>ctc_loss</c>, <c>zero_infinity</c> so an utterance too short for its
    /// transcript gives 0 rather than ∞), summed over the batch and divided by the batch size ("mean over
    /// utterances", as fairseq's <c>ctc</c> criterion reports per-sentence loss).</summary>
    /// <param name="logProbs"><c>[batch, frames, vocab]</c> from <see cref="forward"/>.</param>
    /// <param name="frameLengths"><c>[batch]</c> valid frames.</param>
    /// <param name="targets"><c>[batch, maxTargetLength]</c> int64 token ids (padding beyond each length ignored).</param>
    /// <param name="targetLengths"><c>[batch]</c> tokens per utterance.</param>
    /// <returns>A scalar.</returns>
    public Tensor Loss(Tensor logProbs, Tensor frameLengths, Tensor targets, Tensor targetLengths)
    {
        using var scope = NewDisposeScope();
        var loss = nn.functional.ctc_loss(logProbs.transpose(0, 1), targets, frameLengths.to_type(ScalarType.Int64),
            targetLengths.to_type(ScalarType.Int64), blank: Blank, reduction: nn.Reduction.Sum, zero_infinity: true);
        using var batchS = logProbs.shape[0].ToScalar();
        return loss.div(batchS).MoveToOuterDisposeScope();
    }
}
