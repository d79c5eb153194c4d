namespace HArnESS.Distillation.Losses;

/// <summary>How <see cref="MaskedPredictionLoss"/> reduces over frames.</summary>
public enum LossReduction
{
    /// <summary>Divide the summed loss by the sample size (fairseq's hubert criterion normalisation: the frames
    /// counted by the non-zero weights), so the value is per frame and independent of the batch size.</summary>
    Mean,

    /// <summary>Sum over frames, as torchaudio's <c>examples/hubert</c> <c>hubert_loss(reduction="sum")</c>.</summary>
    Sum,
}
