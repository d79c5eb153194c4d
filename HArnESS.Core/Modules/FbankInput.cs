using HArnESS.Encoders;
using HArnESS.Features;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>The preprocessing of fbank-based front-ends, saved in the encoder's config: waveforms are multiplied by
/// <see cref="InputScale"/>, turned into Kaldi-compatible <see cref="Fbank"/> features with <see cref="Options"/>
/// (which include the sample rate and framing) and normalised by the optional global <see cref="Cmvn"/>.</summary>
public sealed record FbankInput
{
    /// <summary>The fbank options (default: torchaudio's, 80 Mel bins, 25 ms / 10 ms frames, snip edges, no dither).</summary>
    public FbankOptions Options { get; init; } = FbankOptions.Default80;

    /// <summary>Factor applied to waveforms before the fbank: 1 for floats in [-1, 1] (default); fairseq's
    /// <c>speech_to_text</c> recipes use 32768 (Kaldi's 16-bit range).</summary>
    public double InputScale { get; init; } = 1.0;

    /// <summary>Global CMVN applied to the fbanks, or null for none.</summary>
    public GlobalCmvn? Cmvn { get; init; }

    /// <summary>Width of one feature frame (<see cref="FbankOptions.FeatureDim"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int FeatureDim => Options.FeatureDim;

    /// <summary>Kaldi frames for <paramref name="samples"/> samples (<see cref="KaldiFrames.Count(long, FbankOptions)"/>).</summary>
    public long FeatureFrames(long samples) => KaldiFrames.Count(samples, Options);

    /// <summary>Adds every invalid value to <paramref name="errors"/>.</summary>
    /// <param name="errors">The collector.</param>
    /// <param name="option">This section's option name.</param>
    /// <param name="sampleRate">The encoder's sample rate, or null to skip that check.</param>
    public void Validate(ValidationErrors errors, string option, int? sampleRate)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Options is null || Options.Frame is null)
        {
            errors.Add($"{option}.{nameof(Options)}", $"{option}.{nameof(Options)} must be given.");
            return;
        }
        var bins = $"{option}.{nameof(Options)}.{nameof(FbankOptions.NumMelBins)}";
        if (EncoderLimits.InRange(errors, Options.NumMelBins, 1, EncoderLimits.MaxMelBins, bins)
            && EncoderLimits.InRange(errors, (long)Options.Frame.FrameLengthMs, 0, 10_000, $"{option}.{nameof(Options)}.Frame.FrameLengthMs"))
        {
            try { Options.Validate(); }
            catch (HArnessConfigException e)
            {
                var name = $"{option}.{nameof(Options)}.{e.OptionName}";
                errors.Add(name, $"{name}: {e.Message}");
            }
        }
        if (sampleRate is { } rate && Options.Frame.SampleRate != rate)
            errors.Add($"{option}.{nameof(Options)}.Frame.SampleRate",
                $"{option}.{nameof(Options)}.Frame.SampleRate is {Options.Frame.SampleRate} Hz but the encoder's SampleRate is {rate} Hz; they must agree.");
        if (!double.IsFinite(InputScale) || InputScale <= 0)
            errors.Add($"{option}.{nameof(InputScale)}", $"{option}.{nameof(InputScale)} must be finite and positive, got {InputScale}.");
        Cmvn?.Validate(errors, $"{option}.{nameof(Cmvn)}", Options.FeatureDim);
    }

    /// <summary>Features of padded waveforms: scale, fbank, CMVN; padded frames are zero.</summary>
    /// <param name="fbank">The extractor for <see cref="Options"/>.</param>
    /// <param name="waveforms"><c>[batch, time]</c>.</param>
    /// <param name="lengths">Valid samples <c>[batch]</c> int64.</param>
    /// <returns>Features <c>[batch, frames, FeatureDim]</c> and valid frames <c>[batch]</c>.</returns>
    public (Tensor Features, Tensor FrameLengths) Compute(Fbank fbank, Tensor waveforms, Tensor lengths)
    {
        ArgumentNullException.ThrowIfNull(fbank);
        using var scope = NewDisposeScope();
        using var scale = InputScale.ToScalar();
        var input = InputScale == 1.0 ? waveforms : waveforms.mul(scale);
        var (features, frameLengths) = fbank.Compute(input, lengths);
        return (Normalize(features, frameLengths).MoveToOuterDisposeScope(), frameLengths.MoveToOuterDisposeScope());
    }

    /// <summary>Applies <see cref="Cmvn"/> (if any) to raw fbanks <c>[batch, frames, FeatureDim]</c>; frames past
    /// <paramref name="lengths"/> are set to zero.</summary>
    public Tensor Normalize(Tensor features, Tensor? lengths)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 3 || features.shape[2] != FeatureDim)
            throw new ArgumentException($"Expected fbank features [batch, frames, {FeatureDim}], got [{string.Join(", ", features.shape)}].", nameof(features));
        if (Cmvn is null) return features.alias();
        using var scope = NewDisposeScope();
        var y = Cmvn.Apply(features);
        if (lengths is not null)
        {
            var padded = Scalars.Arange(features.shape[1], device: features.device).unsqueeze(0) >= lengths.to(features.device).unsqueeze(1);
            y = y.masked_fill(padded.unsqueeze(-1), Scalars.Of(0.0));
        }
        return y.MoveToOuterDisposeScope();
    }
}
