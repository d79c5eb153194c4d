using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>Turns padded waveforms into padded features (e.g. <c>HArnESS.Features.Fbank.Compute</c>).</summary>
/// <param name="waveforms"><c>[batch, time]</c>.</param>
/// <param name="lengths">Valid samples <c>[batch]</c> int64.</param>
/// <returns>Features <c>[batch, frames, bins]</c> and valid frames <c>[batch]</c> int64.</returns>
public delegate (Tensor Features, Tensor FrameLengths) WaveformFeaturizer(Tensor waveforms, Tensor lengths);
