using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>
/// The front-end section of a <c>SpeechEncoderConfig</c>: which front-end, its shape and its preprocessing. In JSON
/// it is an object whose <c>"type"</c> names the kind (<c>"cnn"</c>, <c>"fbank"</c>, <c>"conv1d-subsampler"</c>).
/// Each kind knows, from its config alone, its output frame count (the one formula used by frame lengths, masking,
/// <c>SpeechEncoder.OutputFrames</c> and <c>EncoderCost</c>), its parameter count and its MACs, and builds its
/// module (<see cref="Create"/>).
/// </summary>
/// <remarks>Adding a front-end: one file with a sealed record deriving from this one (and its module), plus one
/// <see cref="JsonDerivedTypeAttribute"/> line below.</remarks>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(CnnFrontEndConfig), CnnFrontEndConfig.TypeName)]
[JsonDerivedType(typeof(FbankFrontEndConfig), FbankFrontEndConfig.TypeName)]
[JsonDerivedType(typeof(Conv1dSubsamplerConfig), Conv1dSubsamplerConfig.TypeName)]
public abstract record FrontEndConfig
{
    /// <summary>The JSON type tag of this kind.</summary>
    [JsonIgnore]
    public abstract string Kind { get; }

    /// <summary>The module's name inside the encoder, i.e. the prefix of its <c>state_dict</c> keys
    /// (<c>feature_extractor</c> for the CNN, as HF and torchaudio name it).</summary>
    [JsonIgnore]
    public abstract string ModuleName { get; }

    /// <summary>True when the trainable part reads waveforms itself (the CNN); false when it reads features
    /// computed from them (fbanks).</summary>
    [JsonIgnore]
    public abstract bool TakesWaveforms { get; }

    /// <summary>Feature dim of the output frames (what the feature projection reads).</summary>
    [JsonIgnore]
    public abstract int OutputDim { get; }

    /// <summary>Input frames the trainable part sees for <paramref name="samples"/> waveform samples (the samples
    /// themselves for the CNN; Kaldi frames for fbank front-ends).</summary>
    public abstract long InputFrames(long samples);

    /// <summary>Output frames for <paramref name="inputFrames"/> valid input frames.</summary>
    public abstract long OutputFramesFromInput(long inputFrames);

    /// <summary>Output frames for <paramref name="samples"/> waveform samples.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is negative.</exception>
    public long OutputFrames(long samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        return OutputFramesFromInput(InputFrames(samples));
    }

    /// <summary>Valid output frames <c>[batch]</c> int64 for valid input frames, by <see cref="OutputFramesFromInput"/>
    /// (on the input's device).</summary>
    /// <param name="inputLengths"><c>[batch]</c> integer lengths.</param>
    public Tensor OutputLengths(Tensor inputLengths)
    {
        ArgumentNullException.ThrowIfNull(inputLengths);
        using var cpu = inputLengths.to(ScalarType.Int64, CPU);
        var values = cpu.data<long>().Select(n => OutputFramesFromInput(Math.Max(0, n))).ToArray();
        return tensor(values, device: inputLengths.device);
    }

    /// <summary>Parameters of the module <see cref="Create"/> builds.</summary>
    public abstract long CountParameters();

    /// <summary>Multiply-accumulates of the module on <paramref name="samples"/> samples (batch 1): convolutions and
    /// linear layers; not norms, activations or the fbank computation itself (FFT, Mel).</summary>
    public abstract long CountMacs(long samples);

    /// <summary>Adds every invalid value (against <c>EncoderLimits</c>) to <paramref name="errors"/>, options named
    /// <c>FrontEnd.&lt;Property&gt;</c>.</summary>
    /// <param name="errors">The collector.</param>
    /// <param name="sampleRate">The encoder's waveform sample rate in Hz, or null to skip checking that the
    /// front-end's own feature options agree with it.</param>
    public abstract void Validate(ValidationErrors errors, int? sampleRate = null);

    /// <summary>Validates this config alone (no sample-rate check).</summary>
    /// <exception cref="HArnessValidationException">Every invalid value, named.</exception>
    public void Validate()
    {
        var errors = new ValidationErrors();
        Validate(errors);
        errors.ThrowIfAny(GetType().Name);
    }

    /// <summary>Builds the module with fresh weights (the config must be valid).</summary>
    public abstract IFrontEnd Create();

    /// <summary>Option name prefix used in validation messages.</summary>
    protected const string Prefix = "FrontEnd";
}
