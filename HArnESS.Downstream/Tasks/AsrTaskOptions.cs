namespace HArnESS.Downstream.Tasks;

/// <summary>The head of a CTC recognition task (<see cref="AsrTask"/>): an optional stack of 1-D convolutions over
/// time (context for each frame, as the small CNN/LSTM heads SUPERB puts on a frozen upstream give) before fairseq's
/// linear CTC projection. With <see cref="ConvLayers"/> = 0 (the default) the head is the plain linear projection.</summary>
public sealed record AsrTaskOptions
{
    /// <summary>Transcript label set in the batches: <c>wrd</c> (words) or <c>ltr</c> (fairseq letters). Default <c>wrd</c>.</summary>
    public string LabelName { get; init; } = "wrd";

    /// <summary>Convolution blocks before the projection (each: zero the padding, <c>Conv1d</c> over time, GELU,
    /// layer norm, dropout, residual when the widths match), ≥ 0. Default 0 (linear head).</summary>
    public int ConvLayers { get; init; }

    /// <summary>Channels of every convolution block, ≥ 1. Default 128.</summary>
    public int ConvChannels { get; init; } = 128;

    /// <summary>Odd kernel size (frames) of the convolutions, ≥ 1. Default 5 (±2 frames, ±40 ms at 50 Hz).</summary>
    public int ConvKernel { get; init; } = 5;

    /// <summary>Dropout after each convolution block and before the projection (fairseq's <c>final_dropout</c>), in [0, 1). Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">Values are out of range; every problem is listed.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(!string.IsNullOrWhiteSpace(LabelName), nameof(LabelName), $"{nameof(LabelName)} must be given.");
        e.Require(ConvLayers >= 0, nameof(ConvLayers), $"{nameof(ConvLayers)} must be ≥ 0, got {ConvLayers}.");
        e.Require(ConvChannels >= 1, nameof(ConvChannels), $"{nameof(ConvChannels)} must be ≥ 1, got {ConvChannels}.");
        e.Require(ConvKernel >= 1 && ConvKernel % 2 == 1, nameof(ConvKernel), $"{nameof(ConvKernel)} must be odd and ≥ 1, got {ConvKernel}.");
        e.Require(Dropout is >= 0 and < 1, nameof(Dropout), $"{nameof(Dropout)} must be in [0, 1), got {Dropout}.");
        e.ThrowIfAny(nameof(AsrTaskOptions));
    }
}
