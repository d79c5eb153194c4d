using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using HArnESS.Tensors;

namespace HArnESS.Modules;

/// <summary>The convolutional waveform front-end (torchaudio's <c>FeatureExtractor</c>, HF's
/// <c>feature_extractor</c>): a stack of <see cref="ConvLayerBlock"/>s under <c>conv_layers.{i}</c>.</summary>
public sealed class ConvFeatureExtractor : nn.Module, IFrontEnd
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly ModuleList<ConvLayerBlock> conv_layers;
#pragma warning restore IDE1006
    private readonly CnnFrontEndConfig _config;

    /// <summary>Builds the stack.</summary>
    /// <param name="layers">Convolutions in order; must not be empty.</param>
    /// <param name="mode">Group norm on the first layer, or layer norm on every layer.</param>
    /// <param name="bias">Whether convolutions have biases.</param>
    /// <exception cref="HArnessValidationException"><paramref name="layers"/> is empty or holds a value out of range.</exception>
    public ConvFeatureExtractor(IReadOnlyList<ConvLayerSpec> layers, ConvNormMode mode, bool bias)
        : this(new CnnFrontEndConfig { Layers = layers?.ToArray() ?? throw new ArgumentNullException(nameof(layers)), Norm = mode, Bias = bias })
    {
    }

    /// <summary>Builds the stack a config describes.</summary>
    /// <param name="config">The CNN section; validated first.</param>
    /// <exception cref="HArnessValidationException">A value is out of range (every one named).</exception>
    public ConvFeatureExtractor(CnnFrontEndConfig config) : base(nameof(ConvFeatureExtractor))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        conv_layers = new ModuleList<ConvLayerBlock>();
        var inChannels = 1;
        for (var i = 0; i < config.Layers.Count; i++)
        {
            var spec = config.Layers[i];
            nn.Module<Tensor, Tensor>? norm = config.Norm switch
            {
                ConvNormMode.GroupNorm when i == 0 => UnitGroupNorm(spec.Dim),
                ConvNormMode.LayerNorm => new ChannelLayerNorm(spec.Dim),
                _ => null,
            };
            conv_layers.Add(new ConvLayerBlock(inChannels, spec, config.Bias, norm));
            inChannels = spec.Dim;
        }
        RegisterComponents();
    }

    // TorchSharp 0.107's GroupNorm leaves its affine parameters uninitialised (garbage, sometimes NaN); set them to
    // PyTorch's defaults (weight 1, bias 0).
    private static nn.Module<Tensor, Tensor> UnitGroupNorm(int channels)
    {
        var norm = nn.GroupNorm(channels, channels, eps: 1e-5, affine: true);
        using var _ = no_grad();
        foreach (var (name, p) in norm.named_parameters())
        {
            if (name == "weight") p.fill_(Scalars.Of(1.0));
            else p.zero_();
        }
        return norm;
    }

    /// <inheritdoc/>
    public FrontEndConfig Config => _config;

    /// <summary>The convolutions.</summary>
    public IReadOnlyList<ConvLayerSpec> Layers => _config.Layers;

    /// <summary>Channels of the output (the last layer's dim).</summary>
    public int OutputDim => _config.OutputDim;

    /// <summary>Runs the stack.</summary>
    /// <param name="waveforms"><c>[batch, time]</c>.</param>
    /// <param name="lengths">Valid samples <c>[batch]</c> int64, or null when all are valid.</param>
    /// <returns>Features <c>[batch, frames, dim]</c> and valid frame counts <c>[batch]</c> (null when
    /// <paramref name="lengths"/> is null), counted by <see cref="CnnFrontEndConfig.OutputFramesFromInput"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="waveforms"/> is not 2-D.</exception>
    public (Tensor Features, Tensor? Lengths) Forward(Tensor waveforms, Tensor? lengths)
    {
        if (waveforms.dim() != 2)
            throw new ArgumentException($"Expected waveforms [batch, time], got [{string.Join(", ", waveforms.shape)}].", nameof(waveforms));
        using var scope = NewDisposeScope();
        var x = waveforms.unsqueeze(1);
        foreach (var layer in conv_layers) x = layer.forward(x);
        var features = x.transpose(1, 2).MoveToOuterDisposeScope();
        return (features, lengths is null ? null : _config.OutputLengths(lengths).MoveToOuterDisposeScope());
    }

    /// <summary>The same as <see cref="Forward"/>: the CNN's inputs are waveforms.</summary>
    public (Tensor Features, Tensor? Lengths) ForwardFeatures(Tensor inputs, Tensor? lengths) => Forward(inputs, lengths);

    /// <summary>Output frames for an input of <paramref name="samples"/> samples.</summary>
    public long OutputFrames(long samples) => _config.OutputFrames(samples);
}
