using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>The convolutional waveform front-end (torchaudio's <c>FeatureExtractor</c>, HF's
/// <c>feature_extractor</c>): a stack of <see cref="ConvLayerBlock"/>s under <c>conv_layers.{i}</c>.</summary>
public sealed class ConvFeatureExtractor : nn.Module
{
#pragma warning disable IDE1006 // field names are the state_dict keys
    private readonly ModuleList<ConvLayerBlock> conv_layers;
#pragma warning restore IDE1006

    /// <summary>Builds the stack.</summary>
    /// <param name="layers">Convolutions in order; must not be empty.</param>
    /// <param name="mode">Group norm on the first layer, or layer norm on every layer.</param>
    /// <param name="bias">Whether convolutions have biases.</param>
    /// <exception cref="HArnessConfigException"><paramref name="layers"/> is empty or holds a non-positive value.</exception>
    public ConvFeatureExtractor(IReadOnlyList<ConvLayerSpec> layers, ConvNormMode mode, bool bias)
        : base(nameof(ConvFeatureExtractor))
    {
        if (layers.Count == 0)
            throw new HArnessConfigException("ConvLayers: the conv stack is empty; give at least one (dim, kernel, stride).", "ConvLayers");
        Layers = layers.ToArray();
        conv_layers = new ModuleList<ConvLayerBlock>();
        var inChannels = 1;
        for (var i = 0; i < Layers.Count; i++)
        {
            var spec = Layers[i];
            if (spec.Dim <= 0 || spec.Kernel <= 0 || spec.Stride <= 0)
                throw new HArnessConfigException(
                    $"ConvLayers[{i}] is {spec}; dim, kernel and stride must be positive.", $"ConvLayers[{i}]");
            nn.Module<Tensor, Tensor>? norm = mode switch
            {
                ConvNormMode.GroupNorm when i == 0 => InitializedGroupNorm(spec.Dim),
                ConvNormMode.LayerNorm => new ChannelLayerNorm(spec.Dim),
                _ => null,
            };
            conv_layers.Add(new ConvLayerBlock(inChannels, spec, bias, norm));
            inChannels = spec.Dim;
        }
        RegisterComponents();
    }

    /// <summary>The convolutions.</summary>
    public IReadOnlyList<ConvLayerSpec> Layers { get; }

    /// <summary>
    /// A per-channel GroupNorm with PyTorch's initial affine values (weight 1, bias 0): TorchSharp 0.107's
    /// <c>nn.GroupNorm</c> leaves them uninitialised (leftover memory, sometimes NaN) until a checkpoint overwrites them.
    /// </summary>
    private static nn.Module<Tensor, Tensor> InitializedGroupNorm(int channels)
    {
        var norm = nn.GroupNorm(channels, channels, eps: 1e-5, affine: true);
        using (no_grad())
        {
            norm.weight!.fill_(1.0);
            norm.bias!.zero_();
        }
        return norm;
    }

    /// <summary>Channels of the output (the last layer's dim).</summary>
    public int OutputDim => Layers[^1].Dim;

    /// <summary>Runs the stack.</summary>
    /// <param name="waveforms"><c>[batch, time]</c>.</param>
    /// <param name="lengths">Valid samples <c>[batch]</c> int64, or null when all are valid.</param>
    /// <returns>Features <c>[batch, frames, dim]</c> and valid frame counts <c>[batch]</c> (null when
    /// <paramref name="lengths"/> is null).</returns>
    /// <exception cref="ArgumentException"><paramref name="waveforms"/> is not 2-D.</exception>
    public (Tensor Features, Tensor? Lengths) Forward(Tensor waveforms, Tensor? lengths)
    {
        if (waveforms.dim() != 2)
            throw new ArgumentException($"Expected waveforms [batch, time], got [{string.Join(", ", waveforms.shape)}].", nameof(waveforms));
        using var scope = NewDisposeScope();
        var x = waveforms.unsqueeze(1);
        var l = lengths;
        foreach (var layer in conv_layers)
        {
            x = layer.forward(x);
            if (l is not null) l = layer.OutputLengths(l);
        }
        var features = x.transpose(1, 2).MoveToOuterDisposeScope();
        return (features, l?.MoveToOuterDisposeScope());
    }

    /// <summary>Output frames for an input of <paramref name="samples"/> samples.</summary>
    public long OutputFrames(long samples)
    {
        foreach (var spec in Layers) samples = spec.OutputFrames(samples);
        return samples;
    }
}
