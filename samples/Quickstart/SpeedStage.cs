using System.Diagnostics;
using HArnESS.Data;
using HArnESS.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Samples.Quickstart;

/// <summary>Speed with TorchSharp: the encoder's forward over test utterances one at a time (batch 1, no_grad, eval
/// mode) after one warm-up pass; the real-time factor is compute seconds per audio second (below 1 is faster than
/// real time).</summary>
internal static class SpeedStage
{
    /// <summary>The timed utterances as sample arrays (16 kHz), shared by the TorchSharp and ONNX Runtime timings.</summary>
    /// <param name="Waveforms">One array per utterance.</param>
    /// <param name="Seconds">Their total duration.</param>
    public sealed record TestAudio(IReadOnlyList<float[]> Waveforms, double Seconds);

    public static TestAudio Load(string testManifest, int count, int sampleRate)
    {
        var manifest = Manifest.Load(testManifest);
        var loader = new AudioLoader(new AudioDataset(manifest), new AudioLoaderOptions { BatchSize = 1, Shuffle = false, BucketByLength = false, Prefetch = 0 });
        var waves = new List<float[]>();
        foreach (var batch in loader.Take(count))
        {
            using var b = batch;
            waves.Add(b.Waveforms.to(ScalarType.Float32).cpu().data<float>().ToArray());
        }
        return new TestAudio(waves, waves.Sum(w => w.Length) / (double)sampleRate);
    }

    /// <summary>Times the forward pass; the encoder's training flag is restored afterwards.</summary>
    public static double RealTimeFactor(SpeechEncoder encoder, TestAudio audio)
    {
        var wasTraining = encoder.training;
        var device = encoder.parameters().First().device;
        encoder.eval();
        try
        {
            using var _ = no_grad();
            Forward(encoder, audio.Waveforms[0], device); // warm-up (allocator, kernels)
            var clock = Stopwatch.StartNew();
            foreach (var w in audio.Waveforms) Forward(encoder, w, device);
            return clock.Elapsed.TotalSeconds / audio.Seconds;
        }
        finally
        {
            encoder.train(wasTraining);
        }
    }

    /// <summary>The last hidden state of one utterance, [frames × width] flattened (for the ONNX parity check).</summary>
    public static float[] LastHiddenState(SpeechEncoder encoder, float[] samples)
    {
        var wasTraining = encoder.training;
        encoder.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            using var x = torch.tensor(samples, [1, samples.Length]).to(encoder.parameters().First().device);
            using var output = encoder.Forward(x);
            return output.LastHiddenState.to(ScalarType.Float32).cpu().data<float>().ToArray();
        }
        finally
        {
            encoder.train(wasTraining);
        }
    }

    private static void Forward(SpeechEncoder encoder, float[] samples, Device device)
    {
        using var scope = NewDisposeScope();
        using var x = torch.tensor(samples, [1, samples.Length]).to(device);
        using var output = encoder.Forward(x);
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
    }
}
