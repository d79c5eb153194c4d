using HArnESS.Distillation.Losses;

namespace HArnESS.Distillation.Pretraining;

/// <summary>How <see cref="MaskedPretrainingObjective"/> masks, aligns labels and weighs its loss (HuBERT masked
/// prediction). Immutable; <see cref="Validate"/> reports every invalid value at once.</summary>
public sealed record MaskedPretrainingOptions
{
    /// <summary>Span-mask probability passed to <see cref="HArnESS.Modules.SpanMasking.Compute"/>: about
    /// <c>p · frames / MaskLength</c> span starts per utterance (default 0.08, this library's default; fairseq's
    /// HuBERT pre-training config uses 0.8, i.e. roughly half the frames masked after overlaps). In [0, 1].</summary>
    public double MaskProbability { get; init; } = 0.08;

    /// <summary>Span length in frames (default 10, as HuBERT), at least 1.</summary>
    public int MaskLength { get; init; } = 10;

    /// <summary>Minimum number of spans per utterance (default 2, as fairseq), at least 0.</summary>
    public int MinMasks { get; init; } = 2;

    /// <summary>Label set name in the batch (<c>AudioBatch.Labels</c>; default <c>"km"</c>, a <c>.km</c> file).</summary>
    public string LabelName { get; init; } = "km";

    /// <summary>Labels per second of the label file: 100 for MFCC-39 labels (10 ms hop), the teacher's frame rate
    /// for labels of a teacher layer. Labels are mapped to the encoder's frames as fairseq's HuBERT does
    /// (frame <c>i</c> takes label <c>floor(i · LabelRate / frameRate)</c>), and cropped utterances take the labels
    /// of their crop. Null (default) = labels at the encoder's own frame rate.</summary>
    public double? LabelRate { get; init; }

    /// <summary>How many (resampled) labels more or fewer than frames an utterance may have before it is refused
    /// as misaligned (<see cref="HArnessDataException"/> naming the utterance; default 2: edge rounding of the
    /// front-ends). At least 0.</summary>
    public int LabelTolerance { get; init; } = 2;

    /// <summary>The loss weights (masked / unmasked cross-entropy, feature penalty) and reduction.</summary>
    public MaskedPredictionLossOptions Loss { get; init; } = new();

    /// <summary>Checks every value.</summary>
    /// <exception cref="HArnessValidationException">Every invalid value, each named.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(MaskProbability is >= 0 and <= 1, nameof(MaskProbability), $"MaskProbability must be in [0, 1], got {MaskProbability}.");
        e.Require(MaskLength >= 1, nameof(MaskLength), $"MaskLength must be at least 1, got {MaskLength}.");
        e.Require(MinMasks >= 0, nameof(MinMasks), $"MinMasks must be at least 0, got {MinMasks}.");
        e.Require(!string.IsNullOrWhiteSpace(LabelName), nameof(LabelName), "LabelName must name a label set, got an empty name.");
        e.Require(LabelRate is null or > 0 && (LabelRate is null || double.IsFinite(LabelRate.Value)), nameof(LabelRate),
            $"LabelRate must be positive and finite or null, got {LabelRate}.");
        e.Require(LabelTolerance >= 0, nameof(LabelTolerance), $"LabelTolerance must be at least 0, got {LabelTolerance}.");
        if (Loss is null) e.Add(nameof(Loss), "Loss must not be null.");
        else
        {
            try { Loss.Validate(); }
            catch (HArnessValidationException ex) { e.AddRange(ex.Errors, "Loss"); }
        }
        e.ThrowIfAny(nameof(MaskedPretrainingOptions));
    }
}
