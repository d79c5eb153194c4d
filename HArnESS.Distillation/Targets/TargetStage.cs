namespace HArnESS.Distillation.Targets;

/// <summary>The stages of a target run, in order; each finished one is recorded in <see cref="TargetManifest"/> and
/// reused by a restarted run when its signature matches.</summary>
public enum TargetStage
{
    /// <summary>Feature dump into shards (unit: utterances).</summary>
    Dump,

    /// <summary>PCA fit (unit: frames).</summary>
    Pca,

    /// <summary>k-means fit (units: inits, mini-batch steps, Lloyd iterations, frames).</summary>
    KMeans,

    /// <summary>Unit labels of every utterance (unit: utterances).</summary>
    Labels,

    /// <summary>Phone purity, cluster purity and PNMI against reference labels (unit: frames).</summary>
    Metrics,
}
