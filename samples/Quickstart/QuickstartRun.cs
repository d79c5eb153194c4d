using System.Diagnostics;
using System.Globalization;
using HArnESS.Checkpoints;
using HArnESS.Data;
using HArnESS.Encoders;
using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Samples.Quickstart;

/// <summary>The recipe's stages in order, then the table, the plots and <c>report.json</c>.</summary>
internal static class QuickstartRun
{
    public static int Run(QuickstartOptions o, CancellationToken ct)
    {
        var log = new ConsoleLog();
        var stageSeconds = new Dictionary<string, double>(StringComparer.Ordinal);
        var stageClock = Stopwatch.StartNew();
        void EndStage(string name)
        {
            stageSeconds[name] = Math.Round(stageClock.Elapsed.TotalSeconds, 1);
            stageClock.Restart();
        }
        Directory.CreateDirectory(o.Output);
        var device = HArnessRuntime.Device;
        var deviceName = device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, (int)device.index)}" : "cpu";

        var train = Manifest.Load(o.TrainManifest);
        var sampleRate = Recipe.Teacher.SampleRate;
        var corpus = new CorpusInfo(train.Count, Math.Round(train.TotalSamples / (double)sampleRate, 2), o.Corpus);
        log.Stage($"Corpus {o.Corpus}: {corpus.Utterances} training utterances, {corpus.Seconds:F1} s; device {deviceName}; " +
                  $"{(o.Smoke ? "smoke run" : "full run")}, {o.Steps} updates per training run → {o.Output}");

        // 1. The teacher.
        var teacherStage = TeacherStage.Run(o, log, ct);
        using var teacher = teacherStage.Teacher;
        teacher.Encoder.to(device);
        teacher.Head?.to(device);
        EndStage("teacher");

        // 2. The students.
        var students = StudentStage.Run(o, teacher, log, ct);
        EndStage("students");
        try
        {
            // 3. Size and speed: TorchSharp, then ONNX Runtime.
            log.Stage($"Size and speed: parameters, MACs per 10 s, real-time factor on {o.TimedUtterances} test utterances (batch 1), TorchSharp and ONNX Runtime");
            var audio = SpeedStage.Load(Path.Combine(o.Corpus, "test.tsv"), o.TimedUtterances, sampleRate);
            var encoders = new List<(string Name, SpeechEncoder Encoder, string? Folder, StudentStage.Result? Student)> { ("teacher", teacher.Encoder, teacherStage.ModelFolder, null) };
            encoders.AddRange(students.Select(s => (s.Spec.Name, s.Student.Encoder, (string?)s.Folder, (StudentStage.Result?)s)));
            var speed = encoders.ToDictionary(e => e.Name, e => SpeedStage.RealTimeFactor(e.Encoder, audio));
            foreach (var (name, rtf) in speed) log.Detail(string.Create(CultureInfo.InvariantCulture, $"{name}: TorchSharp RTF {rtf:F4} over {audio.Seconds:F1} s of audio"));
            EndStage("speed");
            var onnx = new Dictionary<string, OnnxInfo>(StringComparer.Ordinal);
            var onnxFiles = new List<string>();
            foreach (var (name, encoder, folder, _) in encoders)
            {
                var (onnxInfo, files) = OnnxStage.Run(name, encoder, folder, audio, o.Output, log);
                onnx[name] = onnxInfo;
                onnxFiles.AddRange(files);
            }
            EndStage("onnx");

            // 4. Downstream tasks on every model, then the multi-task comparison on HS.
            var tasks = new Dictionary<string, TaskMetrics>(StringComparer.Ordinal);
            foreach (var (name, encoder, _, _) in encoders)
            {
                log.Stage($"Downstream on {name} (frozen upstream, weighted layer sum): ASR, SER, DID, KWS, SV");
                tasks[name] = DownstreamStage.Run(name, encoder, o, log, ct).Metrics;
            }
            EndStage("downstream");
            var hs = students.First(s => s.Spec.Name == "HS");
            log.Stage("Multi-task KWS + SV on HS: joint fine-tuning vs single-task fine-tuning vs frozen");
            var multitask = DownstreamStage.MultiTask("HS", () => (SpeechEncoder)SpeechEncoder.Load(hs.Folder).to(device), tasks["HS"], o, log, ct);
            EndStage("multitask");

            // 5. Table, plots, report.
            var teacherRtf = speed["teacher"];
            var models = encoders.Select(e => new ModelInfo
            {
                Name = e.Name,
                Parameters = e.Encoder.CountParameters(includeMaskEmbedding: false),
                GmacsPer10s = Math.Round(EncoderCost.CountMacs(e.Encoder.Config, 10 * sampleRate) / 1e9, 4),
                RealTimeFactor = speed[e.Name],
                SpeedupVsTeacher = teacherRtf / speed[e.Name],
                LayerCosineToTeacher = e.Student?.Outcome.CosineAfter,
                LayerCosineBefore = e.Student?.Outcome.CosineBefore,
                TeacherLayers = e.Student?.Outcome.TeacherLayers,
                InitializedFromTeacher = e.Student?.Outcome.InitializedFromTeacher.Count,
                Tasks = tasks[e.Name],
                FrontEnd = e.Encoder.Config.FrontEnd.GetType().Name.Replace("FrontEndConfig", "", StringComparison.Ordinal).Replace("Config", "", StringComparison.Ordinal),
                Layers = e.Encoder.NumLayers,
                Width = e.Encoder.HiddenSize,
                Onnx = onnx[e.Name],
            }).ToArray();
            var chance = DownstreamStage.Chance(o.Corpus);
            log.Stage("Comparison (metrics in %; RTF = compute s per audio s, batch 1; speed-up = teacher RTF / model RTF)");
            Console.WriteLine(ComparisonTable.Render(models, chance));
            Console.WriteLine(ComparisonTable.Render(multitask));
            var histories = students.Select(s => ($"distill-{s.Spec.Name}", s.Outcome.Training.History)).ToArray();
            var plots = QuickstartCharts.LossCurves(o.Output, teacherStage.LossCsvs, histories).Concat(QuickstartCharts.Comparisons(o.Output, models)).ToArray();
            var savedModels = students.Select(s => Path.GetRelativePath(o.Output, s.Folder)).ToList();
            if (teacherStage.ModelFolder is { } tf) savedModels.Insert(0, Path.GetRelativePath(o.Output, tf));
            EndStage("report");
            var report = new QuickstartReport
            {
                Corpus = corpus with { Path = o.Corpus },
                Device = deviceName,
                ElapsedSeconds = Math.Round(log.Elapsed.TotalSeconds, 1),
                Iterations = teacherStage.Iterations,
                Models = models,
                MultiTask = multitask,
                Artifacts = new ArtifactsInfo(plots, savedModels, onnxFiles),
                Smoke = o.Smoke,
                Steps = o.Steps,
                TeacherSource = teacherStage.Source,
                Chance = chance,
                StageSeconds = stageSeconds,
            };
            var reportPath = ReportWriter.Write(report, o.Output);
            foreach (var m in models.Where(m => m.Name != "teacher"))
            {
                var beats = m.Parameters < models[0].Parameters && m.RealTimeFactor < models[0].RealTimeFactor;
                log.Detail($"{m.Name}: {(beats ? "smaller and faster than the teacher" : "NOT both smaller and faster than the teacher")}");
            }
            foreach (var m in models)
            {
                var t = m.Tasks;
                string[] below =
                [
                    .. t.Asr.Cer < chance.Asr.Cer ? Array.Empty<string>() : ["ASR"],
                    .. t.Ser.Ua > chance.Ser.Ua ? Array.Empty<string>() : ["SER"],
                    .. t.Did.Accuracy > chance.Did.Accuracy ? Array.Empty<string>() : ["DID"],
                    .. t.Kws.Accuracy > chance.Kws.Accuracy ? Array.Empty<string>() : ["KWS"],
                    .. t.Sv.Eer < chance.Sv.Eer ? Array.Empty<string>() : ["SV"],
                ];
                var verdict = below.Length == 0 ? "beats chance on every task" : "does NOT beat chance on " + string.Join(", ", below)
                    + (o.Smoke ? $" (expected after --smoke's {o.Steps} updates; the full run trains {QuickstartOptions.DefaultSteps})" : "");
                log.Detail($"{m.Name}: {verdict}");
            }
            log.Stage($"Done in {log.Elapsed.TotalSeconds:F0} s: {reportPath}, {plots.Length} plots in {Path.Combine(o.Output, "plots")}, students in {Path.Combine(o.Output, "models")}");
            return 0;
        }
        finally
        {
            foreach (var s in students) s.Student.Dispose();
        }
    }
}
