using System.Text.Json.Serialization;
using HArnESS.Encoders;
using HArnESS.Features;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>
/// Wang et al.'s convolutional subsampler front-end (<c>"type": "conv1d-subsampler"</c>), fairseq
/// <c>speech_to_text</c>'s <c>Conv1dSubsampler</c>: global-CMVN fbanks (80-d by default) go through
/// <see cref="KernelSizes"/>.Count convolutions over time, each with stride 2, padding <c>kernel / 2</c> and a GLU
/// over channels. One layer of kernel 5 (the default) turns 10 ms frames into HuBERT's 20 ms. Module
/// <see cref="Conv1dSubsampler"/>, keys <c>subsample.conv_layers.{i}.{weight,bias}</c> as in fairseq.
/// </summary>
public sealed record Conv1dSubsamplerConfig : FrontEndConfig
{
    /// <summary>The JSON type tag.</summary>
    public const string TypeName = "conv1d-subsampler";

    /// <summary>Fbank options, input scale and global CMVN (saved with the model). fairseq's recipes use 80 bins,
    /// waveforms scaled by 32768 and global CMVN statistics of the training set.</summary>
    public FbankInput Input { get; init; } = new();

    /// <summary>Kernel of each convolution (odd, so fairseq's length formula is exact); default one layer of 5.</summary>
    public IReadOnlyList<int> KernelSizes { get; init; } = [5];

    /// <summary>Channels between layers before the GLU halves them (fairseq's <c>conv_channels</c>, 1024); unused
    /// with one layer.</summary>
    public int Channels { get; init; } = 1024;

    /// <summary>Output channels after the last GLU (the last convolution has twice as many).</summary>
    public int OutputChannels { get; init; } = 512;

    /// <inheritdoc/>
    [JsonIgnore]
    public override string Kind => TypeName;

    /// <inheritdoc/>
    [JsonIgnore]
    public override string ModuleName => "subsample";

    /// <inheritdoc/>
    [JsonIgnore]
    public override bool TakesWaveforms => false;

    /// <inheritdoc/>
    [JsonIgnore]
    public override int OutputDim => OutputChannels;

    /// <inheritdoc/>
    public override long InputFrames(long samples) => Input.FeatureFrames(samples);

    /// <inheritdoc/>
    /// <remarks>fairseq's <c>get_out_seq_lens_tensor</c>: <c>floor((n - 1) / 2 + 1)</c> per layer (0 stays 0).</remarks>
    public override long OutputFramesFromInput(long inputFrames)
    {
        for (var i = 0; i < KernelSizes.Count; i++) inputFrames = LayerOutputFrames(inputFrames);
        return inputFrames;
    }

    /// <summary>Output frames of one stride-2 layer: <c>floor((n - 1) / 2 + 1)</c>, 0 for no input.</summary>
    public static long LayerOutputFrames(long inputFrames) => inputFrames <= 0 ? 0 : (inputFrames - 1) / 2 + 1;

    /// <inheritdoc/>
    public override long CountParameters()
    {
        long n = 0;
        for (var i = 0; i < KernelSizes.Count; i++)
        {
            var (inCh, outCh) = LayerChannels(i);
            n += (long)outCh * inCh * KernelSizes[i] + outCh;
        }
        return n;
    }

    /// <inheritdoc/>
    public override long CountMacs(long samples)
    {
        long macs = 0, t = InputFrames(samples);
        for (var i = 0; i < KernelSizes.Count; i++)
        {
            t = LayerOutputFrames(t);
            var (inCh, outCh) = LayerChannels(i);
            macs += t * outCh * inCh * KernelSizes[i];
        }
        return macs;
    }

    /// <summary>Input and output channels of convolution <paramref name="i"/> (before its GLU).</summary>
    public (int In, int Out) LayerChannels(int i) =>
        (i == 0 ? Input.FeatureDim : Channels / 2, i < KernelSizes.Count - 1 ? Channels : 2 * OutputChannels);

    /// <inheritdoc/>
    public override void Validate(ValidationErrors errors, int? sampleRate = null)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Input is null) errors.Add($"{Prefix}.{nameof(Input)}", $"{Prefix}.{nameof(Input)} must be given.");
        else Input.Validate(errors, $"{Prefix}.{nameof(Input)}", sampleRate);
        var kernels = $"{Prefix}.{nameof(KernelSizes)}";
        if (KernelSizes is null || KernelSizes.Count is 0 or > EncoderLimits.MaxConvLayers)
            errors.Add(kernels, $"{kernels} must hold 1 to {EncoderLimits.MaxConvLayers} kernels, got {KernelSizes?.Count ?? 0}.");
        else
            for (var i = 0; i < KernelSizes.Count; i++)
                if (KernelSizes[i] is < 1 or > EncoderLimits.MaxConvKernel || KernelSizes[i] % 2 == 0)
                    errors.Add($"{kernels}[{i}]", $"{kernels}[{i}] must be odd and in [1, {EncoderLimits.MaxConvKernel}], got {KernelSizes[i]}.");
        if (EncoderLimits.InRange(errors, Channels, 2, EncoderLimits.MaxConvChannels, $"{Prefix}.{nameof(Channels)}") && Channels % 2 != 0)
            errors.Add($"{Prefix}.{nameof(Channels)}", $"{Prefix}.{nameof(Channels)} must be even (the GLU halves it), got {Channels}.");
        EncoderLimits.InRange(errors, OutputChannels, 1, EncoderLimits.MaxConvChannels / 2, $"{Prefix}.{nameof(OutputChannels)}");
    }

    /// <inheritdoc/>
    public override IFrontEnd Create() => new Conv1dSubsampler(this);

    /// <summary>Value equality including the kernel list.</summary>
    public bool Equals(Conv1dSubsamplerConfig? other) =>
        other is not null && Equals(Input, other.Input) && Channels == other.Channels && OutputChannels == other.OutputChannels
        && KernelSizes.SequenceEqual(other.KernelSizes);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Input, Channels, OutputChannels, KernelSizes.Count);
}

/// <summary>The module of <see cref="Conv1dSubsamplerConfig"/>: fbank + CMVN, then <c>Conv1d(stride 2, padding
/// k / 2) → GLU</c> per layer (<c>conv_layers.{i}.{weight,bias}</c>). Frames past an utterance's length are zeroed
/// before every convolution, so a padded batch gives each utterance its single-utterance result.</summary>
public sealed class Conv1dSubsampler : nn.Module, IFrontEnd
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly ModuleList<Conv1d> conv_layers;
#pragma warning restore IDE1006
    private readonly Conv1dSubsamplerConfig _config;
    private readonly Fbank _fbank;

    /// <summary>Builds the subsampler (PyTorch's default Conv1d initialisation).</summary>
    /// <param name="config">The section; validated first.</param>
    /// <exception cref="HArnessValidationException">A value is out of range (every one named).</exception>
    public Conv1dSubsampler(Conv1dSubsamplerConfig config) : base(nameof(Conv1dSubsampler))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        _fbank = new Fbank(config.Input.Options);
        conv_layers = new ModuleList<Conv1d>();
        for (var i = 0; i < config.KernelSizes.Count; i++)
        {
            var (inCh, outCh) = config.LayerChannels(i);
            var k = config.KernelSizes[i];
            conv_layers.Add(nn.Conv1d(inCh, outCh, k, stride: 2, padding: k / 2));
        }
        RegisterComponents();
    }

    /// <inheritdoc/>
    public FrontEndConfig Config => _config;

    /// <inheritdoc/>
    public (Tensor Features, Tensor? Lengths) Forward(Tensor waveforms, Tensor? lengths)
    {
        using var scope = NewDisposeScope();
        using var samples = waveforms.shape[1].ToScalar();
        var l = lengths ?? full(waveforms.shape[0], samples, dtype: ScalarType.Int64, device: waveforms.device);
        var (fb, fbLengths) = _config.Input.Compute(_fbank, waveforms, l);
        var (y, outLengths) = Subsample(fb, lengths is null ? null : fbLengths);
        return (y.MoveToOuterDisposeScope(), outLengths?.MoveToOuterDisposeScope());
    }

    /// <summary>Applies the config's CMVN to raw fbanks <c>[batch, frames, bins]</c>, then subsamples.</summary>
    public (Tensor Features, Tensor? Lengths) ForwardFeatures(Tensor inputs, Tensor? lengths)
    {
        using var scope = NewDisposeScope();
        var (y, l) = Subsample(_config.Input.Normalize(inputs, lengths), lengths);
        return (y.MoveToOuterDisposeScope(), l?.MoveToOuterDisposeScope());
    }

    private (Tensor, Tensor?) Subsample(Tensor features, Tensor? lengths)
    {
        var x = features.transpose(1, 2);                                       // [B, D, T]
        var l = lengths?.to(ScalarType.Int64, features.device);
        foreach (var conv in conv_layers)
        {
            if (l is not null)
            {
                var pad = Scalars.Arange(x.shape[2], device: x.device).unsqueeze(0) >= l.unsqueeze(1);
                x = x.masked_fill(pad.unsqueeze(1), Scalars.Of(0.0));
            }
            x = nn.functional.glu(conv.forward(x), 1);
            if (l is not null)
            {
                using var cpu = l.cpu();
                l = tensor(cpu.data<long>().Select(Conv1dSubsamplerConfig.LayerOutputFrames).ToArray(), device: x.device);
            }
        }
        return (x.transpose(1, 2), l);
    }
}
