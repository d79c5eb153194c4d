using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Distillation.Losses;

/// <summary>Builds and checks the <c>[batch, frames]</c> boolean masks the losses take as <c>validFrames</c>
/// (<c>true</c> = the frame counts). Padding frames are <c>false</c> and never reach a loss value or its gradient.</summary>
public static class FrameMasks
{
    /// <summary>The valid-frame mask of a padded batch from its per-utterance frame counts.</summary>
    /// <param name="frameLengths">Valid frames per utterance, <c>[batch]</c>, an integer tensor with values in
    /// <c>[0, frames]</c>.</param>
    /// <param name="frames">The padded frame count <c>T</c>.</param>
    /// <returns><c>[batch, frames]</c> bool on the device of <paramref name="frameLengths"/>: <c>t &lt; length[b]</c>.</returns>
    /// <exception cref="ArgumentException">The lengths are not a 1-D integer tensor or a value lies outside
    /// <c>[0, frames]</c>.</exception>
    public static Tensor FromLengths(Tensor frameLengths, long frames)
    {
        ArgumentNullException.ThrowIfNull(frameLengths);
        ArgumentOutOfRangeException.ThrowIfNegative(frames);
        if (frameLengths.dim() != 1 || torch.is_floating_point(frameLengths) || frameLengths.dtype == ScalarType.Bool)
            throw new ArgumentException(
                $"Frame lengths must be a 1-D integer tensor [batch], got {frameLengths.dtype} [{string.Join(", ", frameLengths.shape)}].",
                nameof(frameLengths));
        if (frameLengths.numel() > 0)
        {
            var min = frameLengths.min().item<long>();
            var max = frameLengths.max().item<long>();
            if (min < 0 || max > frames)
                throw new ArgumentException($"Frame lengths must lie in [0, {frames}], got values in [{min}, {max}].", nameof(frameLengths));
        }
        using var scope = NewDisposeScope();
        var t = Scalars.Arange(frames, device: frameLengths.device, dtype: ScalarType.Int64);
        return t.unsqueeze(0).lt(frameLengths.to(ScalarType.Int64).unsqueeze(1)).MoveToOuterDisposeScope();
    }

    /// <summary>The valid-frame mask from a padding mask in the HF/torchaudio sense (<c>true</c> = padding).</summary>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool, <c>true</c> where the frame is padding.</param>
    /// <returns>Its negation, <c>[batch, frames]</c> bool.</returns>
    /// <exception cref="ArgumentException">The mask is not a 2-D bool tensor.</exception>
    public static Tensor FromPadding(Tensor paddingMask)
    {
        ArgumentNullException.ThrowIfNull(paddingMask);
        if (paddingMask.dim() != 2 || paddingMask.dtype != ScalarType.Bool)
            throw new ArgumentException(
                $"A padding mask must be a 2-D bool tensor [batch, frames], got {paddingMask.dtype} [{string.Join(", ", paddingMask.shape)}].",
                nameof(paddingMask));
        return paddingMask.logical_not();
    }

    /// <summary>Checks a caller's valid-frame mask against <c>[batch, frames]</c>, or makes an all-true one.</summary>
    internal static Tensor Resolve(Tensor? validFrames, long batch, long frames, Device device, string paramName)
    {
        if (validFrames is null) return ones(batch, frames, dtype: ScalarType.Bool, device: device);
        if (validFrames.dtype != ScalarType.Bool || validFrames.dim() != 2 || validFrames.shape[0] != batch || validFrames.shape[1] != frames)
            throw new ArgumentException(
                $"The valid-frame mask must be bool [{batch}, {frames}] (true = the frame counts; see FrameMasks.FromLengths), " +
                $"got {validFrames.dtype} [{string.Join(", ", validFrames.shape)}].", paramName);
        return validFrames.to(device).alias();
    }

    /// <summary>Shape text for messages.</summary>
    internal static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    /// <summary>Checks that labels are an integer <c>[batch, frames]</c> tensor aligned with the frames.</summary>
    internal static void CheckLabels(Tensor labels, long batch, long frames, string paramName)
    {
        ArgumentNullException.ThrowIfNull(labels, paramName);
        if (torch.is_floating_point(labels) || labels.dtype == ScalarType.Bool)
            throw new ArgumentException($"Labels must be an integer tensor, got {labels.dtype}.", paramName);
        if (labels.dim() != 2 || labels.shape[0] != batch)
            throw new ArgumentException($"Labels must be [{batch}, {frames}] (one unit per frame), got {Shape(labels)}.", paramName);
        if (labels.shape[1] != frames)
            throw new ArgumentException(
                $"Label length does not match the frames: the labels have {labels.shape[1]} frames per utterance, " +
                $"the model output has {frames}. Labels must be at the model's frame rate (see FrameLabels.Pad).", paramName);
    }

    /// <summary>Checks that every label at a counted frame lies in <c>[0, classes)</c>.</summary>
    internal static void CheckLabelRange(Tensor labels, Tensor counted, long classes, string paramName)
    {
        using var scope = NewDisposeScope();
        var sel = labels.masked_select(counted);
        if (sel.numel() == 0) return;
        var min = sel.min().item<long>();
        var max = sel.max().item<long>();
        if (min < 0 || max >= classes)
            throw new ArgumentOutOfRangeException(paramName,
                $"Labels at counted frames must lie in [0, {classes}) (the codebook has {classes} codes), got values in [{min}, {max}].");
    }
}
