namespace HArnESS.Downstream.Data;

/// <summary>One verification trial: two utterances and whether they share a speaker.</summary>
/// <param name="IsTarget">True for a target (same-speaker) trial.</param>
/// <param name="Enrollment">First utterance (path as written in the trial list).</param>
/// <param name="Test">Second utterance.</param>
public sealed record Trial(bool IsTarget, string Enrollment, string Test);
