using Parameter = TorchSharp.Modules.Parameter;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Modules;

/// <summary>Layer norm over the channel axis of a <c>[batch, channels, frames]</c> tensor (torchaudio's transposing
/// <c>LayerNorm</c>). Parameters: <c>weight</c>, <c>bias</c> of shape <c>[channels]</c>.</summary>
public sealed class ChannelLayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly long _channels;
    private readonly double _eps;
#pragma warning disable IDE1006 // parameter names are the state_dict keys
    private readonly Parameter weight;
    private readonly Parameter bias;
#pragma warning restore IDE1006

    /// <summary>Creates the norm with unit weight and zero bias.</summary>
    /// <param name="channels">Channel count.</param>
    /// <param name="eps">Variance epsilon.</param>
    public ChannelLayerNorm(long channels, double eps = 1e-5) : base(nameof(ChannelLayerNorm))
    {
        _channels = channels;
        _eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    /// <summary>Normalises each frame over channels.</summary>
    /// <param name="input"><c>[batch, channels, frames]</c>.</param>
    /// <returns><c>[batch, channels, frames]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var t = input.transpose(-2, -1);
        using var n = nn.functional.layer_norm(t, [_channels], weight, bias, _eps);
        return n.transpose(-2, -1);
    }
}
