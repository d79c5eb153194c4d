using System.Text.Json.Serialization;

namespace HArnESS.Training;

/// <summary>The non-tensor part of a training checkpoint, stored as JSON in the safetensors metadata.</summary>
internal sealed class CheckpointState
{
    public int Format { get; set; } = 1;
    public long Step { get; set; }
    public int Epoch { get; set; }
    public int Batch { get; set; }
    public long Skipped { get; set; }
    public double LossScale { get; set; } = 1;
    public int ScalerGoodSteps { get; set; }
    public long ScalerOverflows { get; set; }
    public Dictionary<string, long> OptimizerSteps { get; set; } = [];
    public double? BestMetric { get; set; }
    public long? BestStep { get; set; }
    public int ValidationsSinceBest { get; set; }
    public long LastValidationStep { get; set; } = -1;
    public Dictionary<string, string> Config { get; set; } = [];
    public List<HistoryRow> History { get; set; } = [];
}

/// <summary>A loss-history row in a checkpoint.</summary>
internal sealed class HistoryRow
{
    [JsonPropertyName("s")] public long Step { get; set; }
    [JsonPropertyName("e")] public int Epoch { get; set; }
    [JsonPropertyName("p")] public string Split { get; set; } = "train";
    [JsonPropertyName("lr")] public double LearningRate { get; set; }
    [JsonPropertyName("g")] public double GradientNorm { get; set; }
    [JsonPropertyName("t")] public Dictionary<string, double> Terms { get; set; } = [];

    public static HistoryRow From(LossRecord r) => new()
    {
        Step = r.Step, Epoch = r.Epoch, Split = r.Split, LearningRate = r.LearningRate, GradientNorm = r.GradientNorm,
        Terms = new Dictionary<string, double>(r.Terms, StringComparer.Ordinal),
    };

    public LossRecord ToRecord() => new(Step, Epoch, Split, Terms, LearningRate, GradientNorm);
}
