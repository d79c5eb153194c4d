using HArnESS.Features;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>Filter-bank front-end that replaces the CNN (Wang et al.): Kaldi-compatible log-Mel frames (10 ms hop,
/// options and global CMVN from its <see cref="FbankFrontEndConfig"/>) are stacked <c>stack</c> at a time
/// (2 → 20 ms, the CNN's 50 Hz rate) and linearly projected to the front-end dim the feature projection expects.
/// Parameters: <c>projection.{weight,bias}</c> (<c>fbank_frontend.projection.*</c> inside <c>SpeechEncoder</c>).</summary>
public sealed class FbankFrontEnd : nn.Module, IFrontEnd
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly nn.Module<Tensor, Tensor> projection;
#pragma warning restore IDE1006
    private readonly FbankFrontEndConfig _config;
    private readonly Fbank _fbank;

    /// <summary>Creates the front-end with torchaudio's default 80-style fbank options and <paramref name="melBins"/> bins.</summary>
    /// <param name="melBins">Mel bins per input frame.</param>
    /// <param name="stack">Frames stacked into one output frame (1 = no stacking).</param>
    /// <param name="outputDim">Output feature dim.</param>
    /// <exception cref="HArnessValidationException">A value is out of range (every one named).</exception>
    public FbankFrontEnd(int melBins, int stack, int outputDim)
        : this(new FbankFrontEndConfig { Input = new() { Options = FbankOptions.Default80 with { NumMelBins = melBins } }, Stack = stack, ProjectionDim = outputDim })
    {
    }

    /// <summary>Creates the front-end a config describes.</summary>
    /// <param name="config">The fbank section; validated first.</param>
    /// <exception cref="HArnessValidationException">A value is out of range (every one named).</exception>
    public FbankFrontEnd(FbankFrontEndConfig config) : base(nameof(FbankFrontEnd))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        _fbank = new Fbank(config.Input.Options);
        projection = nn.Linear(MelBins * config.Stack, config.ProjectionDim);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public FrontEndConfig Config => _config;

    /// <summary>Feature width per input frame (Mel bins, plus one with an energy column).</summary>
    public int MelBins => _config.Input.FeatureDim;

    /// <summary>Input frames per output frame.</summary>
    public int Stack => _config.Stack;

    /// <summary>Output feature dim.</summary>
    public int OutputDim => _config.ProjectionDim;

    /// <summary>Output frames for <paramref name="featureFrames"/> input frames (a trailing partial stack is dropped).</summary>
    public long OutputFrames(long featureFrames) => _config.OutputFramesFromInput(featureFrames);

    /// <summary>Computes fbanks (with the config's options and CMVN), then stacks and projects.</summary>
    /// <param name="waveforms"><c>[batch, time]</c>.</param>
    /// <param name="lengths">Valid samples <c>[batch]</c> int64, or null.</param>
    public (Tensor Features, Tensor? Lengths) Forward(Tensor waveforms, Tensor? lengths)
    {
        using var scope = NewDisposeScope();
        using var samples = waveforms.shape[1].ToScalar();
        var l = lengths ?? full(waveforms.shape[0], samples, dtype: ScalarType.Int64, device: waveforms.device);
        var (fb, fbLengths) = _config.Input.Compute(_fbank, waveforms, l);
        var (y, outLengths) = Project(fb, lengths is null ? null : fbLengths);
        return (y.MoveToOuterDisposeScope(), outLengths?.MoveToOuterDisposeScope());
    }

    /// <summary>Applies the config's CMVN to raw fbanks, then stacks and projects.</summary>
    /// <param name="inputs">Raw fbank features <c>[batch, frames, melBins]</c> (before CMVN).</param>
    /// <param name="lengths">Valid frames <c>[batch]</c> int64, or null.</param>
    public (Tensor Features, Tensor? Lengths) ForwardFeatures(Tensor inputs, Tensor? lengths)
    {
        CheckFeatures(inputs);
        using var scope = NewDisposeScope();
        var (y, l) = Project(_config.Input.Normalize(inputs, lengths), lengths);
        return (y.MoveToOuterDisposeScope(), l?.MoveToOuterDisposeScope());
    }

    /// <summary>Stacks and projects already normalised features.</summary>
    /// <param name="features">Log-Mel features <c>[batch, frames, melBins]</c>.</param>
    /// <param name="frameLengths">Valid frames <c>[batch]</c> int64, or null.</param>
    /// <returns>Features <c>[batch, frames / stack, outputDim]</c> and valid lengths <c>floor(len / stack)</c>.</returns>
    /// <exception cref="ArgumentException">The input is not <c>[batch, frames, melBins]</c>.</exception>
    public (Tensor Features, Tensor? Lengths) Project(Tensor features, Tensor? frameLengths)
    {
        CheckFeatures(features);
        using var scope = NewDisposeScope();
        long b = features.shape[0], t = OutputFrames(features.shape[1]);
        var x = features.narrow(1, 0, t * Stack).reshape(b, t, Stack * MelBins);
        var y = projection.forward(x).MoveToOuterDisposeScope();
        var l = frameLengths is null ? null : _config.OutputLengths(frameLengths).MoveToOuterDisposeScope();
        return (y, l);
    }

    private void CheckFeatures(Tensor features)
    {
        if (features.dim() != 3 || features.shape[2] != MelBins)
            throw new ArgumentException($"Expected fbank features [batch, frames, {MelBins}], got [{string.Join(", ", features.shape)}].", nameof(features));
    }
}
