namespace HArnESS.Training;

/// <summary>The shape of a learning-rate schedule; see <see cref="LearningRateSchedule.Factor"/> for each formula.</summary>
public enum ScheduleKind
{
    /// <summary>Linear warmup, then the peak learning rate to the end.</summary>
    Constant,

    /// <summary>Linear warmup, then linear decay to <see cref="LearningRateSchedule.FinalScale"/> at the last step
    /// (Hugging Face's <c>get_linear_schedule_with_warmup</c> when the final scale is 0).</summary>
    Linear,

    /// <summary>Linear warmup, then half-cosine decay to <see cref="LearningRateSchedule.FinalScale"/>
    /// (Hugging Face's <c>get_cosine_schedule_with_warmup</c> when the final scale is 0).</summary>
    Cosine,

    /// <summary>fairseq's <c>tri_stage</c>: linear warmup from <see cref="LearningRateSchedule.InitialScale"/>,
    /// hold at the peak, exponential decay to <see cref="LearningRateSchedule.FinalScale"/>, then stay there.</summary>
    TriStage,
}
