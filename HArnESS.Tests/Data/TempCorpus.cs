using HArnESS.Audio;
using HArnESS.Data;

namespace HArnESS.Tests.Data;

/// <summary>A throw-away corpus of small PCM16 WAV files with known samples, in a temp folder deleted on dispose.</summary>
internal sealed class TempCorpus : IDisposable
{
    public TempCorpus(IReadOnlyList<int> lengths, int sampleRate = 16_000, string subFolder = "wav")
    {
        Dir = Path.Combine(Path.GetTempPath(), "harness-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Dir, subFolder));
        var entries = new List<ManifestEntry>();
        for (var i = 0; i < lengths.Count; i++)
        {
            var rel = $"{subFolder}/utt{i:D4}.wav";
            WavWriter.Write(Path.Combine(Dir, rel), new AudioClip(Samples(i, lengths[i]), sampleRate));
            entries.Add(new ManifestEntry(rel, lengths[i]));
        }
        Manifest = new Manifest(Dir, entries);
        TsvPath = Path.Combine(Dir, "train.tsv");
        Manifest.Save(TsvPath);
    }

    public string Dir { get; }

    public string TsvPath { get; }

    public Manifest Manifest { get; }

    /// <summary>
    /// Sample j of file i: a multiple of 1/32768 (exact in PCM16), different for every file and position, so a
    /// batch row can be traced back to its file and offset.
    /// </summary>
    public static float Value(int file, long j) => ((file * 977 + j * 13) % 20001 - 10000) / 32768f;

    public static float[] Samples(int file, int length)
    {
        var x = new float[length];
        for (var j = 0; j < length; j++) x[j] = Value(file, j);
        return x;
    }

    public void WriteLabels(string name, IEnumerable<string> lines) =>
        LabelFile.Save(Path.ChangeExtension(TsvPath, "." + name), lines);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
