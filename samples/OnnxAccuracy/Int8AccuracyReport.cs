using System.Globalization;
using System.Text;

namespace HArnESS.Samples.OnnxAccuracy;

/// <summary>One task's metric on the test split, computed three ways from the same trained head: TorchSharp (the
/// head applied to the frozen features it was trained on), ONNX Runtime fp32 and ONNX Runtime int8.</summary>
/// <param name="Task">asr, ser, did, kws or sv.</param>
/// <param name="Metric">What the numbers are: "accuracy", "EER" or "CER".</param>
/// <param name="HigherIsBetter">True for accuracy, false for error rates.</param>
/// <param name="TestItems">Test utterances (or SV trials) the metric is over.</param>
/// <param name="TorchSharp">The metric with the TorchSharp features and head.</param>
/// <param name="OnnxFp32">The metric from the fp32 ONNX model.</param>
/// <param name="OnnxInt8">The metric from the int8 ONNX model.</param>
/// <param name="Agreement">Share of test items on which int8 decides as fp32 does: the same label, the same
/// transcript, or (SV) the same accept/reject at the fp32 EER threshold.</param>
public sealed record Int8TaskResult(string Task, string Metric, bool HigherIsBetter, int TestItems,
    double TorchSharp, double OnnxFp32, double OnnxInt8, double Agreement)
{
    /// <summary>int8 minus fp32 (positive = int8 is higher).</summary>
    public double Delta => OnnxInt8 - OnnxFp32;
}

/// <summary>Per-frame cosine similarity between the int8 and the fp32 model's hidden state <paramref name="Layer"/>
/// over every valid frame of the test utterances.</summary>
/// <param name="Layer">Hidden-state index (0 = input to layer 1).</param>
/// <param name="Frames">Frames compared.</param>
/// <param name="Mean">Mean cosine.</param>
/// <param name="Min">Smallest cosine.</param>
/// <param name="MaxAbsFp32VsTorchSharp">Largest |ONNX fp32 − TorchSharp| over the same frames (the export's parity).</param>
public sealed record Int8LayerCosine(int Layer, long Frames, double Mean, double Min, double MaxAbsFp32VsTorchSharp);

/// <summary>The result of <see cref="Int8Accuracy.Run"/>: the student, the two model files, every task's metric fp32
/// vs int8 and every hidden state's cosine. <see cref="ToMarkdown"/> writes it as the tables of
/// <c>docs/measurements/onnx-int8-vs-fp32.md</c>.</summary>
public sealed class Int8AccuracyReport
{
    internal Int8AccuracyReport(string student, long parameters, int headLayer, string fp32Path, long fp32Bytes, string int8Path, long int8Bytes,
        int quantizedLinears, IReadOnlyList<Int8TaskResult> tasks, IReadOnlyList<Int8LayerCosine> layers)
    {
        Student = student;
        Parameters = parameters;
        HeadLayer = headLayer;
        Fp32ModelPath = fp32Path;
        Fp32ModelBytes = fp32Bytes;
        Int8ModelPath = int8Path;
        Int8ModelBytes = int8Bytes;
        QuantizedLinears = quantizedLinears;
        Tasks = tasks;
        Layers = layers;
    }

    /// <summary>What the student is (its label as given to <see cref="Int8Accuracy.Run"/>).</summary>
    public string Student { get; }

    /// <summary>The student's parameter count (heads excluded).</summary>
    public long Parameters { get; }

    /// <summary>The hidden state the heads read.</summary>
    public int HeadLayer { get; }

    /// <summary>The fp32 model (student + heads).</summary>
    public string Fp32ModelPath { get; }

    /// <summary>Bytes of <see cref="Fp32ModelPath"/>.</summary>
    public long Fp32ModelBytes { get; }

    /// <summary>The int8 model (student + heads), runnable by samples/OnnxInference.</summary>
    public string Int8ModelPath { get; }

    /// <summary>Bytes of <see cref="Int8ModelPath"/>.</summary>
    public long Int8ModelBytes { get; }

    /// <summary>Linear layers the exporter wrote as int8.</summary>
    public int QuantizedLinears { get; }

    /// <summary>One row per task, in the order asr, ser, did, kws, sv.</summary>
    public IReadOnlyList<Int8TaskResult> Tasks { get; }

    /// <summary>One row per exported hidden state.</summary>
    public IReadOnlyList<Int8LayerCosine> Layers { get; }

    /// <summary>The task row named <paramref name="task"/>.</summary>
    /// <exception cref="ArgumentException">No such task.</exception>
    public Int8TaskResult Task(string task) => Tasks.FirstOrDefault(t => t.Task == task)
        ?? throw new ArgumentException($"No task '{task}'; the report has {string.Join(", ", Tasks.Select(t => t.Task))}.", nameof(task));

    /// <summary>Two Markdown tables (tasks; hidden states) with a one-line header naming the student and the files.</summary>
    public string ToMarkdown()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv,
            $"Student: {Student}, {Parameters:N0} parameters; heads on hidden state {HeadLayer}; ONNX fp32 {Fp32ModelBytes / 1024.0:0.#} KiB, int8 {Int8ModelBytes / 1024.0:0.#} KiB ({QuantizedLinears} int8 Linear layers)."));
        sb.AppendLine();
        sb.AppendLine("| task | metric | test items | TorchSharp | ORT fp32 | ORT int8 | int8 − fp32 | int8 decides as fp32 |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var t in Tasks)
            sb.AppendLine(string.Create(inv,
                $"| {t.Task} | {t.Metric} | {t.TestItems} | {t.TorchSharp:0.0000} | {t.OnnxFp32:0.0000} | {t.OnnxInt8:0.0000} | {t.Delta:+0.0000;-0.0000;0.0000} | {t.Agreement:0.0%} |"));
        sb.AppendLine();
        sb.AppendLine("| hidden state | frames | cosine int8 vs fp32, mean | min | max abs ORT fp32 vs TorchSharp |");
        sb.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var l in Layers)
            sb.AppendLine(string.Create(inv, $"| {l.Layer} | {l.Frames} | {l.Mean:0.000000} | {l.Min:0.000000} | {l.MaxAbsFp32VsTorchSharp:0.0e+0} |"));
        return sb.ToString();
    }
}
