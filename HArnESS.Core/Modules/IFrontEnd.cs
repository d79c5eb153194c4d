using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>What turns waveforms into the frames a <c>SpeechEncoder</c>'s feature projection reads: a TorchSharp
/// module built by <see cref="FrontEndConfig.Create"/>. Frame counts, parameter counts and MACs come from its
/// <see cref="Config"/>, so they are known without building the module.</summary>
public interface IFrontEnd
{
    /// <summary>The config the module was built from.</summary>
    FrontEndConfig Config { get; }

    /// <summary>Runs the whole front-end on padded waveforms.</summary>
    /// <param name="waveforms"><c>[batch, time]</c> at the encoder's sample rate.</param>
    /// <param name="lengths">Valid samples <c>[batch]</c> int64, or null when every sample is valid.</param>
    /// <returns>Frames <c>[batch, frames, OutputDim]</c> and valid frames <c>[batch]</c> (null when
    /// <paramref name="lengths"/> is null).</returns>
    (Tensor Features, Tensor? Lengths) Forward(Tensor waveforms, Tensor? lengths);

    /// <summary>Runs the trainable part on precomputed inputs: waveforms for front-ends that read them
    /// (<see cref="FrontEndConfig.TakesWaveforms"/>), otherwise raw features such as fbanks
    /// <c>[batch, frames, bins]</c> before any CMVN (the front-end applies its own).</summary>
    /// <param name="inputs">See above.</param>
    /// <param name="lengths">Valid input frames (or samples) <c>[batch]</c> int64, or null.</param>
    (Tensor Features, Tensor? Lengths) ForwardFeatures(Tensor inputs, Tensor? lengths);
}
