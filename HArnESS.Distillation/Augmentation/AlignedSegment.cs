namespace HArnESS.Distillation.Augmentation;

/// <summary>One labelled span of an utterance from an alignment file (e.g. a phone from a forced aligner).</summary>
/// <param name="StartSeconds">Start time in seconds, at least 0.</param>
/// <param name="EndSeconds">End time in seconds, greater than <paramref name="StartSeconds"/>.</param>
/// <param name="Label">The unit's label (a phone, word or segment name); not used by the shuffle itself.</param>
public readonly record struct AlignedSegment(double StartSeconds, double EndSeconds, string Label);
