using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>Filter-bank front-end that replaces the CNN (Wang et al.): log-Mel frames (10 ms hop) are stacked
/// <c>stack</c> at a time (2 → 20 ms, the CNN's 50 Hz rate) and linearly projected to the front-end dim the
/// feature projection expects. Parameters: <c>projection.{weight,bias}</c> (<c>fbank_frontend.projection.*</c>
/// inside <c>SpeechEncoder</c>).</summary>
public sealed class FbankFrontEnd : nn.Module
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> projection;
#pragma warning restore IDE1006

    /// <summary>Creates the front-end.</summary>
    /// <param name="melBins">Mel bins per input frame.</param>
    /// <param name="stack">Frames stacked into one output frame (1 = no stacking).</param>
    /// <param name="outputDim">Output feature dim.</param>
    /// <exception cref="HArnessConfigException">A value is non-positive.</exception>
    public FbankFrontEnd(int melBins, int stack, int outputDim) : base(nameof(FbankFrontEnd))
    {
        if (melBins <= 0) throw new HArnessConfigException($"Mel bins must be positive, got {melBins}.", "FbankMelBins");
        if (stack <= 0) throw new HArnessConfigException($"Frame stack must be positive, got {stack}.", "FbankStack");
        if (outputDim <= 0) throw new HArnessConfigException($"Fbank projection dim must be positive, got {outputDim}.", "FbankProjectionDim");
        MelBins = melBins;
        Stack = stack;
        OutputDim = outputDim;
        projection = nn.Linear(melBins * stack, outputDim);
        RegisterComponents();
    }

    /// <summary>Mel bins per input frame.</summary>
    public int MelBins { get; }

    /// <summary>Input frames per output frame.</summary>
    public int Stack { get; }

    /// <summary>Output feature dim.</summary>
    public int OutputDim { get; }

    /// <summary>Output frames for <paramref name="featureFrames"/> input frames (a trailing partial stack is dropped).</summary>
    public long OutputFrames(long featureFrames) => featureFrames / Stack;

    /// <summary>Stacks and projects.</summary>
    /// <param name="features">Log-Mel features <c>[batch, frames, melBins]</c>.</param>
    /// <param name="frameLengths">Valid frames <c>[batch]</c> int64, or null.</param>
    /// <returns>Features <c>[batch, frames / stack, outputDim]</c> and valid lengths <c>floor(len / stack)</c>.</returns>
    /// <exception cref="ArgumentException">The input is not <c>[batch, frames, melBins]</c>.</exception>
    public (Tensor Features, Tensor? Lengths) Forward(Tensor features, Tensor? frameLengths)
    {
        if (features.dim() != 3 || features.shape[2] != MelBins)
            throw new ArgumentException($"Expected fbank features [batch, frames, {MelBins}], got [{string.Join(", ", features.shape)}].", nameof(features));
        using var scope = NewDisposeScope();
        long b = features.shape[0], t = OutputFrames(features.shape[1]);
        var x = features.narrow(1, 0, t * Stack).reshape(b, t, Stack * MelBins);
        var y = projection.forward(x).MoveToOuterDisposeScope();
        var l = frameLengths?.div(Stack, rounding_mode: RoundingMode.floor).MoveToOuterDisposeScope();
        return (y, l);
    }
}
