namespace HArnESS.Distillation.Losses;

/// <summary>The element-wise part of a regression loss, averaged over the valid frames and the feature dimension.</summary>
public enum ReconstructionKind
{
    /// <summary>No element-wise term.</summary>
    None,

    /// <summary>Mean absolute error, <c>|p − y|</c> (DistilHuBERT, s3prl <c>loss_type: l1</c>).</summary>
    L1,

    /// <summary>Mean squared error, <c>(p − y)²</c> (s3prl <c>loss_type: l2</c>).</summary>
    Mse,
}
