using HArnESS.Audio;
using HArnESS.Checkpoints;
using HArnESS.Encoders;
using HArnESS.Serialization;
using static TorchSharp.torch;

namespace HArnESS.TestWorker;

/// <summary><c>encode &lt;model-dir&gt; &lt;wav&gt; &lt;out.safetensors&gt;</c>: loads a saved encoder, encodes the WAV
/// (mono, at the encoder's sample rate) and writes every hidden state as <c>hidden_{i}</c> plus <c>frame_lengths</c>.</summary>
internal static class EncodeVerb
{
    public static int Run(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: encode <model-dir> <wav> <out.safetensors>");
            return 2;
        }
        using var encoder = SpeechEncoder.Load(args[0]);
        var clip = WavReader.Read(args[1], new WavReadOptions { Mono = true });
        if (clip.SampleRate != encoder.Config.SampleRate)
        {
            Console.Error.WriteLine($"'{args[1]}' is {clip.SampleRate} Hz; the encoder expects {encoder.Config.SampleRate} Hz.");
            return 3;
        }
        using var _ = no_grad();
        using var wave = tensor(clip.Samples).unsqueeze(0);
        using var output = encoder.Forward(wave);
        var tensors = new Dictionary<string, Tensor> { ["frame_lengths"] = output.FrameLengths };
        for (var i = 0; i < output.HiddenStates.Count; i++) tensors[$"hidden_{i}"] = output.HiddenStates[i];
        SafeTensors.Save(args[2], tensors);
        return 0;
    }
}
