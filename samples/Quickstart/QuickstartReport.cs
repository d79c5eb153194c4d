using System.Text.Json.Serialization;

namespace HArnESS.Samples.Quickstart;

// report.json, the quickstart's machine-readable result (schema: issue 13). The names are fixed: other tools read
// them. Metrics are fractions (0–1); paths are relative to the output folder. Fields beyond the schema are extras.

/// <summary>The whole report.</summary>
internal sealed record QuickstartReport
{
    [JsonPropertyName("corpus")] public required CorpusInfo Corpus { get; init; }
    [JsonPropertyName("device")] public required string Device { get; init; }
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; set; }
    [JsonPropertyName("iterations")] public required IReadOnlyList<IterationInfo> Iterations { get; init; }
    [JsonPropertyName("models")] public required IReadOnlyList<ModelInfo> Models { get; init; }
    [JsonPropertyName("multitask")] public required MultiTaskInfo MultiTask { get; init; }
    [JsonPropertyName("artifacts")] public required ArtifactsInfo Artifacts { get; init; }

    // extras
    [JsonPropertyName("smoke")] public bool Smoke { get; init; }
    [JsonPropertyName("steps")] public int Steps { get; init; }
    [JsonPropertyName("teacher_source")] public required string TeacherSource { get; init; }
    [JsonPropertyName("chance")] public required TaskMetrics Chance { get; init; }
    [JsonPropertyName("stage_seconds")] public required IReadOnlyDictionary<string, double> StageSeconds { get; init; }
}

/// <summary>What the recipe trained on.</summary>
internal sealed record CorpusInfo(
    [property: JsonPropertyName("utterances")] int Utterances,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("path")] string Path);

/// <summary>One pre-training iteration of the teacher.</summary>
internal sealed record IterationInfo(
    [property: JsonPropertyName("iteration")] int Iteration,
    [property: JsonPropertyName("features")] string Features,
    [property: JsonPropertyName("k")] int K,
    [property: JsonPropertyName("masked_accuracy")] double MaskedAccuracy,
    [property: JsonPropertyName("chance")] double Chance,
    [property: JsonPropertyName("majority_rate")] double MajorityRate,
    [property: JsonPropertyName("steps")] long Steps,
    [property: JsonPropertyName("final_loss")] double FinalLoss);

/// <summary>One model's size, speed and task metrics.</summary>
internal sealed record ModelInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("parameters")] public required long Parameters { get; init; }
    [JsonPropertyName("gmacs_per_10s")] public required double GmacsPer10s { get; init; }
    [JsonPropertyName("real_time_factor")] public required double RealTimeFactor { get; init; }
    [JsonPropertyName("speedup_vs_teacher")] public required double SpeedupVsTeacher { get; init; }
    [JsonPropertyName("layer_cosine_to_teacher")] public required IReadOnlyList<double>? LayerCosineToTeacher { get; init; }
    [JsonPropertyName("tasks")] public required TaskMetrics Tasks { get; init; }

    // extras
    [JsonPropertyName("front_end")] public required string FrontEnd { get; init; }
    [JsonPropertyName("layers")] public required int Layers { get; init; }
    [JsonPropertyName("width")] public required int Width { get; init; }
    [JsonPropertyName("teacher_layers")] public IReadOnlyList<int>? TeacherLayers { get; init; }
    [JsonPropertyName("layer_cosine_before_training")] public IReadOnlyList<double>? LayerCosineBefore { get; init; }
    [JsonPropertyName("initialized_from_teacher")] public int? InitializedFromTeacher { get; init; }
    [JsonPropertyName("onnx")] public OnnxInfo? Onnx { get; init; }
}

/// <summary>The five task metrics (fractions).</summary>
internal sealed record TaskMetrics(
    [property: JsonPropertyName("asr")] AsrMetrics Asr,
    [property: JsonPropertyName("ser")] SerMetrics Ser,
    [property: JsonPropertyName("did")] AccuracyMetric Did,
    [property: JsonPropertyName("kws")] AccuracyMetric Kws,
    [property: JsonPropertyName("sv")] EerMetric Sv);

internal sealed record AsrMetrics([property: JsonPropertyName("cer")] double Cer, [property: JsonPropertyName("wer")] double Wer);

internal sealed record SerMetrics([property: JsonPropertyName("ua")] double Ua, [property: JsonPropertyName("wa")] double Wa);

internal sealed record AccuracyMetric([property: JsonPropertyName("accuracy")] double Accuracy);

internal sealed record EerMetric([property: JsonPropertyName("eer")] double Eer);

/// <summary>KWS accuracy and SV EER of one multi-task setting.</summary>
internal sealed record KwsSv([property: JsonPropertyName("kws_accuracy")] double KwsAccuracy, [property: JsonPropertyName("sv_eer")] double SvEer);

/// <summary>The KWS + SV comparison: joint fine-tuning, single-task fine-tuning, frozen upstream.</summary>
internal sealed record MultiTaskInfo(
    [property: JsonPropertyName("joint")] KwsSv Joint,
    [property: JsonPropertyName("single_task")] KwsSv SingleTask,
    [property: JsonPropertyName("frozen")] KwsSv Frozen,
    [property: JsonPropertyName("upstream")] string Upstream);

/// <summary>Files written, relative to the output folder.</summary>
internal sealed record ArtifactsInfo(
    [property: JsonPropertyName("plots")] IReadOnlyList<string> Plots,
    [property: JsonPropertyName("models")] IReadOnlyList<string> Models,
    [property: JsonPropertyName("onnx")] IReadOnlyList<string> Onnx);

/// <summary>A model exported to ONNX and run with ONNX Runtime (fp32 and int8) beside its TorchSharp forward.</summary>
internal sealed record OnnxInfo
{
    [JsonPropertyName("fp32_bytes")] public long Fp32Bytes { get; init; }
    [JsonPropertyName("fp32_real_time_factor")] public double Fp32RealTimeFactor { get; init; }
    [JsonPropertyName("fp32_max_abs_diff")] public double Fp32MaxAbsDiff { get; init; }
    [JsonPropertyName("int8_bytes")] public long Int8Bytes { get; init; }
    [JsonPropertyName("int8_real_time_factor")] public double Int8RealTimeFactor { get; init; }
    [JsonPropertyName("int8_cosine_to_fp32")] public double Int8CosineToFp32 { get; init; }
    [JsonPropertyName("torchsharp_bytes")] public long TorchSharpBytes { get; init; }
    [JsonPropertyName("error")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }
}
