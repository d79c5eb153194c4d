using HArnESS.Reporting;
using HArnESS.Training;

namespace HArnESS.Samples.Quickstart;

/// <summary>The PNG plots: every training run's loss curves (<see cref="LossPlot"/>) and three comparison charts
/// (<see cref="ComparisonChart"/>): size (parameters, GMACs), speed (real-time factor per runtime) and the task
/// metrics, per model. Returns the paths relative to the output folder.</summary>
internal static class QuickstartCharts
{
    public static IReadOnlyList<string> LossCurves(string outputDir, IReadOnlyList<(string Name, string Csv)> csvs,
        IReadOnlyList<(string Name, LossHistory History)> histories)
    {
        var dir = Path.Combine(outputDir, "plots");
        Directory.CreateDirectory(dir);
        var written = new List<string>();
        foreach (var (name, csv) in csvs)
        {
            var path = Path.Combine(dir, $"loss-{name}.png");
            LossPlot.SaveFromCsv(csv, path, new LossPlotOptions { Title = $"Loss: {name}", Smoothing = 5 });
            written.Add(path);
        }
        foreach (var (name, history) in histories.Where(h => h.History.Count > 0))
        {
            var path = Path.Combine(dir, $"loss-{name}.png");
            LossPlot.Save(history, path, new LossPlotOptions { Title = $"Loss: {name}", Smoothing = 5 });
            written.Add(path);
        }
        return written.Select(p => Path.GetRelativePath(outputDir, p)).ToArray();
    }

    public static IReadOnlyList<string> Comparisons(string outputDir, IReadOnlyList<ModelInfo> models)
    {
        var dir = Path.Combine(outputDir, "plots");
        Directory.CreateDirectory(dir);
        var names = models.Select(m => m.Name).ToArray();
        double Onnx(ModelInfo m, Func<OnnxInfo, double> f) => m.Onnx is { Error: null } o ? f(o) : double.NaN;
        var charts = new (string File, ComparisonChartOptions Options, ComparisonSeries[] Series)[]
        {
            ("compare-size.png", new() { Title = "Model size and compute", YLabel = "millions of parameters / GMAC per 10 s" },
            [
                new("parameters (M)", models.Select(m => m.Parameters / 1e6).ToArray()),
                new("GMAC per 10 s", models.Select(m => m.GmacsPer10s).ToArray()),
                new("ONNX fp32 (MB)", models.Select(m => Onnx(m, o => o.Fp32Bytes / 1e6)).ToArray()),
                new("ONNX int8 (MB)", models.Select(m => Onnx(m, o => o.Int8Bytes / 1e6)).ToArray()),
            ]),
            ("compare-speed.png", new() { Title = "Real-time factor, batch 1 (lower is faster)", YLabel = "compute s per audio s" },
            [
                new("TorchSharp", models.Select(m => m.RealTimeFactor).ToArray()),
                new("ONNX Runtime fp32", models.Select(m => Onnx(m, o => o.Fp32RealTimeFactor)).ToArray()),
                new("ONNX Runtime int8", models.Select(m => Onnx(m, o => o.Int8RealTimeFactor)).ToArray()),
            ]),
            ("compare-tasks.png", new() { Title = "Downstream tasks (ASR CER and SV EER: lower is better)", YLabel = "fraction" },
            [
                new("ASR CER", models.Select(m => m.Tasks.Asr.Cer).ToArray()),
                new("SER UA", models.Select(m => m.Tasks.Ser.Ua).ToArray()),
                new("DID acc", models.Select(m => m.Tasks.Did.Accuracy).ToArray()),
                new("KWS acc", models.Select(m => m.Tasks.Kws.Accuracy).ToArray()),
                new("SV EER", models.Select(m => m.Tasks.Sv.Eer).ToArray()),
            ]),
        };
        var written = new List<string>();
        foreach (var (file, options, series) in charts)
        {
            var path = Path.Combine(dir, file);
            ComparisonChart.Save(names, series, path, options);
            written.Add(Path.GetRelativePath(outputDir, path));
        }
        return written;
    }
}
