using HArnESS.Audio;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>Reads mono 16 kHz waveforms for feature dumping (resampling other rates, as fairseq requires 16 kHz).</summary>
internal static class AudioInput
{
    public const int SampleRate = 16_000;

    /// <summary>The whole file as float32 <c>[time]</c> in [-1, 1] at 16 kHz.</summary>
    public static Tensor ReadMono(string path)
    {
        if (!File.Exists(path)) throw new HArnessDataException($"Audio file not found: '{path}'.", path);
        var clip = WavReader.Read(path).ToMono();
        var wave = torch.tensor(clip.Samples);
        if (clip.SampleRate == SampleRate) return wave;
        using (wave)
        using (var batch = wave.unsqueeze(0))
        using (var resampled = AudioResample.Resample(batch, clip.SampleRate, SampleRate))
            return resampled.squeeze(0).clone();
    }

    /// <summary>The file's mono frames <c>[start, start + count)</c> as float32 <c>[count]</c>.</summary>
    public static Tensor ReadRange(string path, long start, long count) =>
        torch.tensor(WavReader.ReadRange(path, start, count).ToMono().Samples);
}
