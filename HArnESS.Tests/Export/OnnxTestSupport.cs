using HArnESS.Encoders;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace HArnESS.Tests.Export;

/// <summary>Shared helpers: random-but-seeded weights, deterministic test audio, and a plain ONNX Runtime call.</summary>
internal static class OnnxTestSupport
{
    /// <summary>A tiny encoder in eval mode whose every parameter (norm gains and biases included) is perturbed, so
    /// no weight is at its trivial initial value.</summary>
    public static SpeechEncoder RandomEncoder(SpeechEncoderConfig config, long seed)
    {
        var model = new SpeechEncoder(config);
        model.eval();
        using var _ = no_grad();
        var gen = new Generator((ulong)seed);
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.EndsWith("weight_g", StringComparison.Ordinal)) p.mul_(1.0 + 0.1 * rand(p.shape, generator: gen));
            else p.add_(randn(p.shape, generator: gen) * 0.1);
        }
        return model;
    }

    /// <summary>Noise plus a few tones at speech-like levels, <c>[batch, time]</c>, deterministic.</summary>
    public static float[,] TestAudio(int batch, int time, int seed)
    {
        var rng = new Random(seed);
        var x = new float[batch, time];
        for (var b = 0; b < batch; b++)
        {
            var f1 = 150 + 100 * rng.NextDouble();
            var f2 = 900 + 1500 * rng.NextDouble();
            for (var t = 0; t < time; t++)
                x[b, t] = (float)(0.3 * Math.Sin(2 * Math.PI * f1 * t / 16000) + 0.1 * Math.Sin(2 * Math.PI * f2 * t / 16000) + 0.05 * (rng.NextDouble() * 2 - 1));
        }
        return x;
    }

    /// <summary>Zeroes samples past each row's length (a padded batch as a loader makes it).</summary>
    public static float[,] Pad(float[,] x, long[] lengths)
    {
        var y = (float[,])x.Clone();
        for (var b = 0; b < lengths.Length; b++)
            for (var t = (int)lengths[b]; t < x.GetLength(1); t++) y[b, t] = 0;
        return y;
    }

    public static Tensor ToTensor(float[,] x) => tensor(x.Cast<float>().ToArray(), [x.GetLength(0), x.GetLength(1)]);

    /// <summary>Runs <paramref name="model"/> on named float/int64 inputs and returns every output as float64 arrays with shapes.</summary>
    public static Dictionary<string, (double[] Data, int[] Shape)> Run(string model, params (string Name, object Value, int[] Shape)[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var feeds = inputs.Select(i => i.Value switch
        {
            float[] f => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(f, i.Shape)),
            long[] l => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<long>(l, i.Shape)),
            _ => throw new ArgumentException("float[] or long[] only", nameof(inputs)),
        }).ToList();
        using var results = session.Run(feeds);
        var map = new Dictionary<string, (double[], int[])>();
        foreach (var r in results)
        {
            if (r.Value is DenseTensor<float> tf) map[r.Name] = (tf.ToArray().Select(v => (double)v).ToArray(), tf.Dimensions.ToArray());
            else if (r.Value is DenseTensor<long> tl) map[r.Name] = (tl.ToArray().Select(v => (double)v).ToArray(), tl.Dimensions.ToArray());
        }
        return map;
    }

    public static double[] ToDoubles(Tensor t) => t.cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    public static double MaxAbs(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths {a.Length} vs {b.Length}");
        var m = 0.0;
        for (var i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
