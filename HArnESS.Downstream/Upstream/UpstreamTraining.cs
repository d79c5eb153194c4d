namespace HArnESS.Downstream.Upstream;

/// <summary>Which upstream parameters a downstream run trains.</summary>
public enum UpstreamTraining
{
    /// <summary>None: the upstream runs in eval mode under no-grad (SUPERB's protocol).</summary>
    Frozen,

    /// <summary>Only the top <see cref="UpstreamOptions.TrainableTopLayers"/> transformer layers (and the final layer norm, if any).</summary>
    TopLayers,

    /// <summary>Every parameter except the CNN feature extractor's when <see cref="UpstreamOptions.FreezeFeatureExtractor"/> is set (fairseq fine-tuning).</summary>
    Full,
}
