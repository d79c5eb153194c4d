using static TorchSharp.torch;

namespace HArnESS.Downstream.Upstream;

/// <summary>What a head reads from the upstream: the hidden states (all of them, for a layer combiner), the padding
/// mask and the valid frames per utterance. Disposing it disposes the tensors.</summary>
public sealed class UpstreamFeatures : IDisposable
{
    /// <summary>Wraps the tensors.</summary>
    /// <param name="hiddenStates">Each <c>[batch, frames, dim]</c>.</param>
    /// <param name="paddingMask"><c>[batch, frames]</c> bool (true = padding) or null.</param>
    /// <param name="frameLengths"><c>[batch]</c> int64.</param>
    public UpstreamFeatures(IReadOnlyList<Tensor> hiddenStates, Tensor? paddingMask, Tensor frameLengths)
    {
        HiddenStates = hiddenStates;
        PaddingMask = paddingMask;
        FrameLengths = frameLengths;
    }

    /// <summary>Hidden states, each <c>[batch, frames, dim]</c> ([0] = transformer input).</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; }

    /// <summary><c>[batch, frames]</c> bool, true = padding; null when all frames are valid.</summary>
    public Tensor? PaddingMask { get; }

    /// <summary>Valid frames per utterance <c>[batch]</c> int64.</summary>
    public Tensor FrameLengths { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var h in HiddenStates.Distinct()) h.Dispose();
        PaddingMask?.Dispose();
        FrameLengths.Dispose();
    }
}
