using HArnESS.Audio;

namespace HArnESS.Data;

/// <summary>
/// A manifest with its label files, read lazily: nothing but sizes and labels is held in memory, each
/// <see cref="Read"/> opens the file and reads just the requested samples, so corpora larger than RAM stream from disk.
/// Thread-safe for concurrent reads.
/// </summary>
public sealed class AudioDataset
{
    private readonly Dictionary<string, LabelFile> _labels;
    private long _itemsRead;

    /// <summary>Creates a dataset over a manifest.</summary>
    /// <param name="manifest">The audio files and their sizes.</param>
    /// <param name="options">Reading options; <see cref="AudioDatasetOptions.Default"/> when null.</param>
    /// <param name="labels">Label files aligned with the manifest, keyed by their <see cref="LabelFile.Name"/>.</param>
    /// <exception cref="HArnessDataException">A label file's line count differs from the manifest's entry count.</exception>
    /// <exception cref="HArnessConfigException">Two label files have the same name, or an option is invalid.</exception>
    public AudioDataset(Manifest manifest, AudioDatasetOptions? options = null, IEnumerable<LabelFile>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Manifest = manifest;
        Options = options ?? AudioDatasetOptions.Default;
        Options.Validate();
        _labels = new Dictionary<string, LabelFile>(StringComparer.Ordinal);
        foreach (var label in labels ?? [])
        {
            label.EnsureAligned(manifest);
            if (!_labels.TryAdd(label.Name, label))
                throw new HArnessConfigException($"Two label files are named '{label.Name}' ('{_labels[label.Name].Path}' and '{label.Path}').", nameof(labels));
        }
    }

    /// <summary>Loads <paramref name="tsvPath"/> and the label files beside it (<c>train.tsv</c> + <c>"ltr"</c> → <c>train.ltr</c>).</summary>
    /// <param name="tsvPath">The manifest.</param>
    /// <param name="options">Reading options.</param>
    /// <param name="labelNames">Label set names (extensions without the dot).</param>
    /// <exception cref="HArnessFormatException">The manifest or a label file is malformed.</exception>
    /// <exception cref="HArnessDataException">A file is missing or a label file is not aligned with the manifest.</exception>
    public static AudioDataset Load(string tsvPath, AudioDatasetOptions? options = null, params string[] labelNames)
    {
        var manifest = Manifest.Load(tsvPath);
        return new AudioDataset(manifest, options, labelNames.Select(n => LabelFile.LoadBeside(manifest, n)));
    }

    /// <summary>The manifest.</summary>
    public Manifest Manifest { get; }

    /// <summary>The reading options.</summary>
    public AudioDatasetOptions Options { get; }

    /// <summary>The label files, keyed by name (<c>ltr</c>, <c>km</c>, <c>emo</c>…).</summary>
    public IReadOnlyDictionary<string, LabelFile> Labels => _labels;

    /// <summary>Number of utterances.</summary>
    public int Count => Manifest.Count;

    /// <summary>Number of items read so far by <see cref="Read"/> (a hook for checking that loaders stream).</summary>
    public long ItemsRead => Interlocked.Read(ref _itemsRead);

    /// <summary>Size of entry <paramref name="index"/> in samples, from the manifest (no disk access).</summary>
    public long SizeOf(int index) => Manifest.Entries[index].NumSamples;

    /// <summary>Absolute path of the audio file of entry <paramref name="index"/>.</summary>
    public string PathOf(int index) => Manifest.GetFullPath(index);

    /// <summary>
    /// Reads entry <paramref name="index"/>, or <paramref name="count"/> samples of it from <paramref name="start"/>
    /// (only those bytes are read from disk). Offsets are in the file's samples.
    /// </summary>
    /// <param name="index">Zero-based entry index.</param>
    /// <param name="start">First sample to read.</param>
    /// <param name="count">Number of samples, or null for the rest of the file.</param>
    /// <exception cref="HArnessDataException">
    /// The file is missing or unreadable, has another sample rate (without <see cref="AudioDatasetOptions.Resample"/>),
    /// more than one channel (without <see cref="AudioDatasetOptions.DownmixToMono"/>), a length other than the
    /// manifest's, or the range is outside it; the message names the file and its manifest entry.
    /// </exception>
    public AudioItem Read(int index, long start = 0, long? count = null)
    {
        if ((uint)index >= (uint)Count)
            throw new HArnessConfigException($"index must be in [0, {Count}), got {index}.", nameof(index));
        var path = PathOf(index);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Error(index, path, ex is FileNotFoundException or DirectoryNotFoundException
                ? "does not exist." : $"cannot be opened: {ex.Message}", ex);
        }
        AudioClip clip;
        using (stream)
        {
            WavInfo info;
            try
            {
                info = WavReader.ReadInfo(stream, path);
            }
            catch (Exception ex) when (ex is HArnessException or IOException)
            {
                throw Error(index, path, $"is not a readable WAV file: {ex.Message}", ex);
            }
            if (info.Channels != 1 && !Options.DownmixToMono)
                throw Error(index, path, $"has {info.Channels} channels; expected mono (or set DownmixToMono).");
            var resample = info.SampleRate != Options.SampleRate;
            if (resample && !Options.Resample)
                throw Error(index, path, $"has sample rate {info.SampleRate} Hz; expected {Options.SampleRate} Hz (or set Resample).");
            if (Options.CheckLength && !resample && info.Frames != SizeOf(index))
                throw Error(index, path, $"has {info.Frames} samples but the manifest says {SizeOf(index)}; the manifest is stale.");
            var n = count ?? info.Frames - start;
            if (start < 0 || n < 0 || start + n > info.Frames)
                throw Error(index, path, $"range [{start}, {start + n}) is outside its {info.Frames} samples.");
            try
            {
                stream.Position = 0;
                clip = WavReader.ReadRange(stream, path, start, n, new WavReadOptions { Mono = true });
                if (resample) clip = AudioResample.Resample(clip, Options.SampleRate);
            }
            catch (Exception ex) when (ex is HArnessException or IOException)
            {
                throw Error(index, path, $"cannot be read: {ex.Message}", ex);
            }
        }
        var samples = clip.Samples;
        if (Options.Normalize) NormalizeInPlace(samples);
        Interlocked.Increment(ref _itemsRead);
        return new AudioItem(index, path, samples, start);
    }

    private HArnessDataException Error(int index, string path, string what, Exception? inner = null)
    {
        var where = Manifest.SourcePath is null ? "" : $" ({Manifest.Describe(index)})";
        return new HArnessDataException($"Manifest entry {index}{where}: '{path}' {what}", path, inner);
    }

    private static void NormalizeInPlace(float[] x)
    {
        if (x.Length == 0) return;
        double sum = 0, sq = 0;
        foreach (var v in x) sum += v;
        var mean = sum / x.Length;
        foreach (var v in x) sq += (v - mean) * (v - mean);
        var scale = 1.0 / Math.Sqrt(sq / x.Length + 1e-5);
        for (var i = 0; i < x.Length; i++) x[i] = (float)((x[i] - mean) * scale);
    }
}
