namespace HArnESS.Downstream.Upstream;

/// <summary>How a downstream run uses its upstream encoder: what it trains, when, and how the hidden states are
/// combined for the head.</summary>
public sealed record UpstreamOptions
{
    /// <summary>What is trained. Default <see cref="UpstreamTraining.Frozen"/>.</summary>
    public UpstreamTraining Training { get; init; } = UpstreamTraining.Frozen;

    /// <summary>Transformer layers trained from the top with <see cref="UpstreamTraining.TopLayers"/>, ≥ 1. Default 2.</summary>
    public int TrainableTopLayers { get; init; } = 2;

    /// <summary>Updates during which the upstream stays frozen before it is trained (fairseq's
    /// <c>freeze_finetune_updates</c>); only the head learns meanwhile. Default 0.</summary>
    public long FreezeForUpdates { get; init; }

    /// <summary>Keep the waveform front-end (CNN or Fbank projection) frozen when training the upstream (fairseq's
    /// <c>feature_grad_mult = 0</c>). Default true.</summary>
    public bool FreezeFeatureExtractor { get; init; } = true;

    /// <summary>Use SUPERB's learned weighted sum of all hidden states (true, default) or one layer (<see cref="Layer"/>).</summary>
    public bool WeightedSum { get; init; } = true;

    /// <summary>Layer-normalise each hidden state before the weighted sum (s3prl's <c>layer_norm</c> option). Default false.</summary>
    public bool LayerNormBeforeSum { get; init; }

    /// <summary>The hidden state used when <see cref="WeightedSum"/> is false (0 = transformer input, negative counts from the end). Default -1 (last).</summary>
    public int Layer { get; init; } = -1;

    /// <summary>Checks every value at once.</summary>
    /// <exception cref="HArnessValidationException">Values are out of range; every problem is listed.</exception>
    public void Validate()
    {
        var e = new ValidationErrors();
        e.Require(Enum.IsDefined(Training), nameof(Training), $"{nameof(Training)} {(int)Training} is not an {nameof(UpstreamTraining)}.");
        e.Require(TrainableTopLayers >= 1, nameof(TrainableTopLayers), $"{nameof(TrainableTopLayers)} must be ≥ 1, got {TrainableTopLayers}.");
        e.Require(FreezeForUpdates >= 0, nameof(FreezeForUpdates), $"{nameof(FreezeForUpdates)} must be ≥ 0, got {FreezeForUpdates}.");
        e.ThrowIfAny(nameof(UpstreamOptions));
    }
}
