using static TorchSharp.torch;

namespace HArnESS.Encoders;

/// <summary>What <see cref="SpeechEncoder.Forward(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor?, int?)"/> returns. Disposing it disposes every tensor it holds.</summary>
public sealed class EncoderOutput : IDisposable
{
    /// <summary>Creates the output.</summary>
    public EncoderOutput(IReadOnlyList<Tensor> hiddenStates, Tensor? paddingMask, Tensor frameLengths, Tensor frontEndFeatures, Tensor? timeMask)
    {
        HiddenStates = hiddenStates;
        PaddingMask = paddingMask;
        FrameLengths = frameLengths;
        FrontEndFeatures = frontEndFeatures;
        TimeMask = timeMask;
    }

    /// <summary>Hidden states, each <c>[batch, frames, dim]</c>, HF convention: [0] = input to the first
    /// transformer layer, [i] = output of layer i (for pre-LN models the last layer's output has the final layer
    /// norm applied; see <see cref="HArnESS.Modules.TransformerEncoder.Forward"/>). With <c>stopAtLayer = n</c> there
    /// are <c>n + 1</c>.</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; }

    /// <summary>The last hidden state <c>[batch, frames, dim]</c>.</summary>
    public Tensor LastHiddenState => HiddenStates[^1];

    /// <summary><c>[batch, frames]</c> bool, true = padding; null when no lengths were given.</summary>
    public Tensor? PaddingMask { get; }

    /// <summary>Valid frames per utterance <c>[batch]</c> int64.</summary>
    public Tensor FrameLengths { get; }

    /// <summary>Front-end output before the feature projection <c>[batch, frames, frontEndDim]</c> (CNN features
    /// or projected fbank stacks), e.g. for HuBERT's feature penalty.</summary>
    public Tensor FrontEndFeatures { get; }

    /// <summary>The time mask that was applied <c>[batch, frames]</c> bool (true = replaced by
    /// <c>masked_spec_embed</c>), or null. It is the caller's tensor: <see cref="Dispose"/> leaves it alone.</summary>
    public Tensor? TimeMask { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in HiddenStates.Distinct()) t.Dispose();
        PaddingMask?.Dispose();
        FrameLengths.Dispose();
        FrontEndFeatures.Dispose();
    }
}
