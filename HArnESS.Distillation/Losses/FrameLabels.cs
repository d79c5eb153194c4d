using static TorchSharp.torch;

namespace HArnESS.Distillation.Losses;

/// <summary>Pads per-utterance unit labels (one per frame, as a label file holds them) into the
/// <c>[batch, frames]</c> tensor the losses take, checking each utterance's label count against its frame count.</summary>
public static class FrameLabels
{
    /// <summary>Builds the padded label tensor.</summary>
    /// <param name="labels">One label sequence per utterance, in batch order.</param>
    /// <param name="frameLengths">The model's valid frames per utterance (e.g. from its output lengths).</param>
    /// <param name="frames">The padded frame count <c>T</c> of the model output.</param>
    /// <param name="tolerance">How many labels more or fewer than frames an utterance may have (fairseq's
    /// <c>label_rate</c> check allows a small difference; the excess is cut, a shortfall is padded with the last
    /// label). Default 0: lengths must match exactly.</param>
    /// <param name="padValue">Value written at padded frames (ignored by the losses).</param>
    /// <param name="utteranceIds">Utterance names for the message, in batch order; optional.</param>
    /// <returns><c>[batch, frames]</c> int64 on the CPU.</returns>
    /// <exception cref="HArnessDataException">An utterance's label count differs from its frame count by more than
    /// the tolerance (the message names the utterance, both counts and the tolerance).</exception>
    /// <exception cref="ArgumentException">The batch sizes differ or a frame length exceeds <paramref name="frames"/>.</exception>
    public static Tensor Pad(IReadOnlyList<IReadOnlyList<int>> labels, IReadOnlyList<long> frameLengths, long frames, int tolerance = 0,
        long padValue = 0, IReadOnlyList<string>? utteranceIds = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(frameLengths);
        ArgumentOutOfRangeException.ThrowIfNegative(tolerance);
        ArgumentOutOfRangeException.ThrowIfNegative(frames);
        if (labels.Count != frameLengths.Count)
            throw new ArgumentException($"{labels.Count} label sequences for {frameLengths.Count} utterances.", nameof(labels));
        if (utteranceIds is not null && utteranceIds.Count != labels.Count)
            throw new ArgumentException($"{utteranceIds.Count} utterance ids for {labels.Count} label sequences.", nameof(utteranceIds));
        var b = labels.Count;
        var data = new long[b * frames];
        Array.Fill(data, padValue);
        for (var i = 0; i < b; i++)
        {
            var len = frameLengths[i];
            if (len < 0 || len > frames)
                throw new ArgumentException($"frameLengths[{i}] = {len} is outside [0, {frames}].", nameof(frameLengths));
            var seq = labels[i] ?? throw new ArgumentNullException(nameof(labels), $"labels[{i}] is null.");
            if (Math.Abs(seq.Count - len) > tolerance)
            {
                var name = utteranceIds is null ? $"utterance {i} of the batch" : $"utterance '{utteranceIds[i]}' (batch index {i})";
                throw new HArnessDataException(
                    $"Label length does not match the frames: {name} has {seq.Count} labels but {len} frames " +
                    $"(tolerance {tolerance}). The labels were made at another frame rate or for other audio.");
            }
            for (var f = 0; f < len; f++)
                data[i * frames + f] = seq.Count == 0 ? padValue : seq[Math.Min(f, seq.Count - 1)];
        }
        return tensor(data, [b, frames], ScalarType.Int64);
    }
}
