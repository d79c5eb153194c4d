namespace HArnESS.Distillation.Students;

/// <summary>How a <see cref="DistillationStudent"/> turns its hidden states into predictions of teacher layers.</summary>
public enum StudentHeadMode
{
    /// <summary>DistilHuBERT's prediction heads: the student's last layer goes through
    /// <c>Linear(D → inner·N) → GELU → per-head split linear (inner → out)</c>, one output per teacher layer
    /// (<see cref="PredictionHeads"/>).</summary>
    PredictionHeads,

    /// <summary>Layer to layer: each chosen student hidden state is mapped to one chosen teacher layer through its own
    /// projection (plain linear or low rank; <see cref="LayerProjections"/>), e.g. Wang et al.'s deep &amp; thin
    /// student (student layer i → teacher layer i).</summary>
    LayerToLayer,
}
