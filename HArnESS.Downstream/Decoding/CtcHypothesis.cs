namespace HArnESS.Downstream.Decoding;

/// <summary>One decoded label sequence with its log-probability.</summary>
/// <param name="Tokens">Label ids, CTC repeats collapsed and blanks removed.</param>
/// <param name="LogProbability">Natural-log probability: for beam search the total over every alignment of
/// <paramref name="Tokens"/> (within the beam), for greedy decoding the best path's.</param>
public sealed record CtcHypothesis(IReadOnlyList<int> Tokens, double LogProbability);
