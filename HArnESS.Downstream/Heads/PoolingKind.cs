namespace HArnESS.Downstream.Heads;

/// <summary>Which utterance pooling a head uses.</summary>
public enum PoolingKind
{
    /// <summary>Mean over valid frames (<see cref="MeanPooling"/>).</summary>
    Mean,

    /// <summary>Learned softmax weights over frames, weighted mean (<see cref="SelfAttentionPooling"/>, SUPERB/s3prl).</summary>
    SelfAttention,

    /// <summary>Mean and standard deviation over valid frames (<see cref="StatisticsPooling"/>, x-vector).</summary>
    Statistics,

    /// <summary>Channel-wise attention, weighted mean and standard deviation (<see cref="AttentiveStatisticsPooling"/>, ECAPA-TDNN).</summary>
    AttentiveStatistics,
}
