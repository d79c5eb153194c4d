using System.Globalization;
using System.Text;

namespace HArnESS.Samples.Quickstart;

/// <summary>The console comparison: one row per model (teacher first) with parameters, GMACs per 10 s, real-time
/// factors (TorchSharp and ONNX Runtime fp32/int8), speed-up against the teacher, ONNX size, and each task's metric
/// (percent; ↑ higher is better, ↓ lower is better); the chance row last.</summary>
internal static class ComparisonTable
{
    public static string Render(IReadOnlyList<ModelInfo> models, TaskMetrics chance)
    {
        var c = CultureInfo.InvariantCulture;
        string[] header = ["model", "params", "GMAC/10s", "RTF", "speed-up", "ONNX MB", "ONNX RTF", "int8 MB", "int8 RTF",
            "ASR CER↓", "SER UA↑", "DID acc↑", "KWS acc↑", "SV EER↓"];
        static string P(double v) => double.IsNaN(v) ? "–" : (100 * v).ToString("F1", CultureInfo.InvariantCulture);
        var rows = models.Select(m => new[]
        {
            m.Name,
            m.Parameters >= 1_000_000 ? (m.Parameters / 1e6).ToString("F2", c) + "M" : (m.Parameters / 1e3).ToString("F0", c) + "k",
            m.GmacsPer10s.ToString("F2", c),
            m.RealTimeFactor.ToString("F4", c),
            m.SpeedupVsTeacher.ToString("F2", c) + "×",
            m.Onnx is { Error: null } o ? (o.Fp32Bytes / 1e6).ToString("F2", c) : "–",
            m.Onnx is { Error: null } o2 ? o2.Fp32RealTimeFactor.ToString("F4", c) : "–",
            m.Onnx is { Error: null } o3 ? (o3.Int8Bytes / 1e6).ToString("F2", c) : "–",
            m.Onnx is { Error: null } o4 ? o4.Int8RealTimeFactor.ToString("F4", c) : "–",
            P(m.Tasks.Asr.Cer), P(m.Tasks.Ser.Ua), P(m.Tasks.Did.Accuracy), P(m.Tasks.Kws.Accuracy), P(m.Tasks.Sv.Eer),
        }).ToList();
        rows.Add(["chance", "", "", "", "", "", "", "", "", P(chance.Asr.Cer), P(chance.Ser.Ua), P(chance.Did.Accuracy), P(chance.Kws.Accuracy), P(chance.Sv.Eer)]);
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        void Line(string[] cells) => sb.AppendLine("| " + string.Join(" | ", cells.Select((x, i) => i == 0 ? x.PadRight(widths[i]) : x.PadLeft(widths[i]))) + " |");
        Line(header);
        sb.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var r in rows) Line(r);
        return sb.ToString();
    }

    /// <summary>The multi-task comparison as a small table.</summary>
    public static string Render(MultiTaskInfo m)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"| KWS + SV on {m.Upstream} | KWS acc↑ | SV EER↓ |");
        sb.AppendLine("|---|---:|---:|");
        foreach (var (name, v) in new[] { ("joint fine-tuning", m.Joint), ("single-task fine-tuning", m.SingleTask), ("frozen upstream", m.Frozen) })
            sb.AppendLine(c, $"| {name} | {100 * v.KwsAccuracy:F1} | {100 * v.SvEer:F1} |");
        return sb.ToString();
    }
}
