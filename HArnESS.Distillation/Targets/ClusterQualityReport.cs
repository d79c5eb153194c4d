namespace HArnESS.Distillation.Targets;

/// <summary>HuBERT's unit-quality measures (Hsu et al. 2021, §IV-D) from the joint distribution p(y, z) of frame
/// reference labels y (phones) and units z.</summary>
/// <param name="PhonePurity">Σ_z max_y p(y, z): the mean frame-level purity of a unit's most likely phone.</param>
/// <param name="ClusterPurity">Σ_y max_z p(y, z): how well each phone is captured by its most likely unit.</param>
/// <param name="Pnmi">Phone-normalised mutual information I(y; z) / H(y).</param>
/// <param name="MutualInformation">I(y; z) in nats.</param>
/// <param name="PhoneEntropy">H(y) in nats.</param>
/// <param name="Frames">Frames counted.</param>
/// <param name="ReferenceClasses">Distinct reference labels seen.</param>
/// <param name="UsedUnits">Distinct units seen.</param>
public sealed record ClusterQualityReport(
    double PhonePurity, double ClusterPurity, double Pnmi, double MutualInformation, double PhoneEntropy,
    long Frames, int ReferenceClasses, int UsedUnits);
