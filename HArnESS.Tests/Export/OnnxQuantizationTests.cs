using HArnESS.Encoders;
using HArnESS.Export;
using NUnit.Framework;
using static HArnESS.Tests.Export.OnnxTestSupport;

namespace HArnESS.Tests.Export;

/// <summary>Dynamic int8 export: the graph carries int8 weights (smaller file) and its hidden states stay close to
/// the fp32 export's. The bounds are what these random-weight tiny models measure (see the printed values), with a
/// margin; trained students are reported in the README.</summary>
public sealed class OnnxQuantizationTests
{
    // Measured (ORT 1.31.1, x64): mean cosine >= 0.9997 and minimum >= 0.9994 on every layer of all three.
    [TestCase("tiny-post-ln", 0.999, 0.998)]
    [TestCase("tiny-pre-ln", 0.999, 0.998)]
    [TestCase("tiny-fbank", 0.999, 0.998)]
    public void Int8HiddenStatesStayCloseToFp32(string preset, double minMeanCosine, double minFrameCosine)
    {
        using var dir = TestPaths.NewTempDirectory();
        using var model = RandomEncoder(EncoderPresets.Get(preset), seed: 13);
        var fp32 = OnnxExporter.Export(model, dir.File("fp32.onnx"));
        var int8 = OnnxExporter.Export(model, dir.File("int8.onnx"), new OnnxExportOptions { Quantization = OnnxQuantization.Int8Dynamic });
        // Feature projection (+ fbank projection) and 6 Linear layers per transformer layer.
        var expectedLinears = 1 + (preset == "tiny-fbank" ? 1 : 0) + 6 * model.NumLayers;
        Assert.That(int8.QuantizedLinears, Is.EqualTo(expectedLinears));
        Assert.That(fp32.QuantizedLinears, Is.Zero);
        Assert.That(int8.ModelBytes, Is.LessThan(fp32.ModelBytes));

        const int time = 16000;
        var lengths = new long[] { time, 11000 };
        var wave = Pad(TestAudio(2, time, seed: 4), lengths).Cast<float>().ToArray();
        var a = Run(fp32.ModelPath, ("waveforms", wave, new[] { 2, time }), ("lengths", lengths, new[] { 2 }));
        var b = Run(int8.ModelPath, ("waveforms", wave, new[] { 2, time }), ("lengths", lengths, new[] { 2 }));
        var frames = a["frame_lengths"].Data;
        Assert.That(b["frame_lengths"].Data, Is.EqualTo(frames));
        for (var layer = 0; layer <= model.NumLayers; layer++)
        {
            var (mean, min) = FrameCosines(a[$"hidden_state_{layer}"], b[$"hidden_state_{layer}"], frames);
            TestContext.Out.WriteLine($"{preset} int8 vs fp32 hidden_state_{layer}: mean cosine {mean:F5}, min {min:F5}");
            Assert.That(mean, Is.GreaterThanOrEqualTo(minMeanCosine), $"hidden_state_{layer} mean");
            Assert.That(min, Is.GreaterThanOrEqualTo(minFrameCosine), $"hidden_state_{layer} min");
        }
    }

    /// <summary>Cosine similarity of each valid frame's vectors: mean and minimum over the batch's valid frames.</summary>
    internal static (double Mean, double Min) FrameCosines((double[] Data, int[] Shape) a, (double[] Data, int[] Shape) b, double[] frameLengths)
    {
        int batch = a.Shape[0], t = a.Shape[1], d = a.Shape[2];
        double sum = 0, min = 1;
        var n = 0;
        for (var i = 0; i < batch; i++)
            for (var f = 0; f < (int)frameLengths[i]; f++)
            {
                double dot = 0, na = 0, nb = 0;
                var o = ((i * t) + f) * d;
                for (var k = 0; k < d; k++)
                {
                    dot += a.Data[o + k] * b.Data[o + k];
                    na += a.Data[o + k] * a.Data[o + k];
                    nb += b.Data[o + k] * b.Data[o + k];
                }
                var c = dot / Math.Sqrt(na * nb);
                sum += c;
                min = Math.Min(min, c);
                n++;
            }
        return (sum / n, min);
    }
}
