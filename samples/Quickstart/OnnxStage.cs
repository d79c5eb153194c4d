using System.Diagnostics;
using HArnESS.Encoders;
using HArnESS.Export;
using HArnESS.Inference;

namespace HArnESS.Samples.Quickstart;

/// <summary>Deploy-small check (issue 14): each model exported to ONNX (fp32 and dynamic int8) with
/// <see cref="OnnxExporter"/>, run with ONNX Runtime through <see cref="SpeechModel"/> (no libtorch) on the same
/// utterances the TorchSharp timing used, batch 1 after a warm-up: size on disk, real-time factor, the fp32 graph's
/// largest difference from TorchSharp and the int8 graph's cosine to fp32 (last hidden state, first utterance).</summary>
internal static class OnnxStage
{
    public static (OnnxInfo Info, IReadOnlyList<string> Files) Run(string name, SpeechEncoder encoder, string? torchSharpFolder,
        SpeedStage.TestAudio audio, string outputDir, ConsoleLog log)
    {
        var folder = Path.Combine(outputDir, "onnx");
        Directory.CreateDirectory(folder);
        var fp32Path = Path.Combine(folder, $"{name}.onnx");
        var int8Path = Path.Combine(folder, $"{name}-int8.onnx");
        var torchBytes = torchSharpFolder is not null && File.Exists(Path.Combine(torchSharpFolder, "model.safetensors"))
            ? new FileInfo(Path.Combine(torchSharpFolder, "model.safetensors")).Length : 4 * encoder.CountParameters(false);
        var layer = encoder.NumLayers;
        try
        {
            var fp32 = OnnxExporter.Export(encoder, fp32Path, new OnnxExportOptions { OutputLayers = [layer] });
            var int8 = OnnxExporter.Export(encoder, int8Path, new OnnxExportOptions { OutputLayers = [layer], Quantization = OnnxQuantization.Int8Dynamic });
            var reference = SpeedStage.LastHiddenState(encoder, audio.Waveforms[0]);
            var (fp32Rtf, fp32First) = Time(fp32.ModelPath, layer, audio);
            var (int8Rtf, int8First) = Time(int8.ModelPath, layer, audio);
            var maxAbs = reference.Length == fp32First.Length
                ? reference.Zip(fp32First, (a, b) => (double)Math.Abs(a - b)).Max()
                : double.NaN;
            var info = new OnnxInfo
            {
                Fp32Bytes = fp32.ModelBytes, Fp32RealTimeFactor = fp32Rtf, Fp32MaxAbsDiff = maxAbs,
                Int8Bytes = int8.ModelBytes, Int8RealTimeFactor = int8Rtf, Int8CosineToFp32 = MeanFrameCosine(fp32First, int8First, encoder.HiddenSize),
                TorchSharpBytes = torchBytes,
            };
            log.Detail($"{name}: ONNX fp32 {fp32.ModelBytes / 1e6:F2} MB, RTF {fp32Rtf:F4} (max |Δ| to TorchSharp {maxAbs:E1}); " +
                       $"int8 {int8.ModelBytes / 1e6:F2} MB, RTF {int8Rtf:F4} (cosine to fp32 {info.Int8CosineToFp32:F4}); TorchSharp weights {torchBytes / 1e6:F2} MB");
            string[] files = [fp32.ModelPath, fp32.SidecarPath, int8.ModelPath, int8.SidecarPath];
            return (info, files.Select(f => Path.GetRelativePath(outputDir, f)).ToArray());
        }
        catch (Exception e) when (e is HArnessException or HArnessInferenceException or ArgumentException or InvalidOperationException
                                      or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            log.Detail($"{name}: ONNX export or run failed: {e.Message}");
            return (new OnnxInfo { TorchSharpBytes = torchBytes, Error = e.Message }, []);
        }
    }

    private static (double Rtf, float[] FirstHidden) Time(string path, int layer, SpeedStage.TestAudio audio)
    {
        using var model = SpeechModel.Load(path);
        var first = model.Run(audio.Waveforms[0], model.Info.SampleRate).HiddenStates[layer].Data; // warm-up + parity sample
        var clock = Stopwatch.StartNew();
        foreach (var w in audio.Waveforms) model.Run(w, model.Info.SampleRate);
        return (clock.Elapsed.TotalSeconds / audio.Seconds, first);
    }

    private static double MeanFrameCosine(float[] a, float[] b, int dim)
    {
        if (a.Length != b.Length || a.Length == 0) return double.NaN;
        double sum = 0;
        var frames = a.Length / dim;
        for (var f = 0; f < frames; f++) sum += SpeechModel.Cosine(a.AsSpan(f * dim, dim), b.AsSpan(f * dim, dim));
        return sum / frames;
    }
}
