using HArnESS.Audio;

namespace HArnESS.Downstream.Data;

/// <summary>
/// The Speech Commands folder layout: one folder per word (the label is the folder name), <c>validation_list.txt</c>
/// and <c>testing_list.txt</c> naming the validation and test files (relative paths, one per line), every other
/// word file in training, and <c>_background_noise_/</c> holding long noise recordings that silence clips are cut
/// from. Labels follow <see cref="SpeechCommandsOptions"/>; class ids follow TensorFlow's order
/// (<c>_silence_</c>, <c>_unknown_</c>, then the keywords).
/// </summary>
public sealed class SpeechCommandsCorpus
{
    /// <summary>Name of the background-noise folder.</summary>
    public const string BackgroundNoiseFolder = "_background_noise_";

    private SpeechCommandsCorpus(string root, LabelSet labels, SpeechCommandsItem[] train, SpeechCommandsItem[] valid, SpeechCommandsItem[] test)
    {
        Root = root;
        Labels = labels;
        Train = train;
        Validation = valid;
        Test = test;
    }

    /// <summary>Absolute corpus root.</summary>
    public string Root { get; }

    /// <summary>The task's classes.</summary>
    public LabelSet Labels { get; }

    /// <summary>Training items (every word file not in a list).</summary>
    public IReadOnlyList<SpeechCommandsItem> Train { get; }

    /// <summary>Items of <c>validation_list.txt</c>.</summary>
    public IReadOnlyList<SpeechCommandsItem> Validation { get; }

    /// <summary>Items of <c>testing_list.txt</c>.</summary>
    public IReadOnlyList<SpeechCommandsItem> Test { get; }

    /// <summary>Reads the layout (WAV headers only).</summary>
    /// <param name="root">The corpus folder.</param>
    /// <param name="options">Task options; null = the 12-class defaults.</param>
    /// <exception cref="HArnessDataException">The folder or a list is missing, a list names a file that does not exist
    /// (the message names the list and line), a keyword has no folder, or silence is asked for without noise files.</exception>
    /// <exception cref="HArnessValidationException">The options are invalid.</exception>
    /// <exception cref="HArnessFormatException">A WAV header is unreadable.</exception>
    public static SpeechCommandsCorpus Load(string root, SpeechCommandsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        options ??= new SpeechCommandsOptions();
        options.Validate();
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full)) throw new HArnessDataException($"Speech Commands folder '{full}' does not exist.", full);
        var words = Directory.GetDirectories(full).Select(Path.GetFileName).OfType<string>()
            .Where(w => w != BackgroundNoiseFolder && !w.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        if (words.Length == 0) throw new HArnessDataException($"Speech Commands folder '{full}' has no word folder.", full);
        var keywords = options.Keywords ?? words;
        foreach (var k in keywords)
            if (!words.Contains(k, StringComparer.Ordinal))
                throw new HArnessDataException($"Keyword '{k}' has no folder in '{full}' (found: {string.Join(", ", words)}).", full);
        var keywordSet = new HashSet<string>(keywords, StringComparer.Ordinal);
        var hasUnknown = options.Keywords is not null && words.Any(w => !keywordSet.Contains(w));
        var hasSilence = options.SilencePercentage > 0;

        var valid = ReadList(full, "validation_list.txt");
        var test = ReadList(full, "testing_list.txt");
        var inLists = new HashSet<string>(valid.Concat(test), StringComparer.Ordinal);
        var train = words.SelectMany(w => Directory.GetFiles(Path.Combine(full, w), "*.wav").Order(StringComparer.Ordinal)
                .Select(f => w + "/" + Path.GetFileName(f)))
            .Where(p => !inLists.Contains(p)).ToArray();

        var noise = hasSilence ? NoiseFiles(full, options) : [];
        var rng = new Random(options.Seed);
        SpeechCommandsItem[] Split(IEnumerable<string> paths, int splitIndex)
        {
            var items = paths.Select(p =>
            {
                var word = p[..p.IndexOf('/')];
                var label = keywordSet.Contains(word) ? word : options.UnknownLabel;
                return new SpeechCommandsItem(p, label, word, 0, WavReader.ReadInfo(Path.Combine(full, p)).Frames);
            }).ToList();
            var known = items.Where(i => i.Label != options.UnknownLabel).ToList();
            var unknown = items.Where(i => i.Label == options.UnknownLabel).ToList();
            if (options.UnknownPercentage is { } up && unknown.Count > 0)
            {
                var take = (int)Math.Min(unknown.Count, Math.Ceiling(known.Count * up / 100));
                unknown = unknown.OrderBy(_ => rng.Next()).Take(take).OrderBy(i => i.RelativePath, StringComparer.Ordinal).ToList();
            }
            var result = known.Concat(unknown).ToList();
            if (hasSilence)
            {
                var n = (int)Math.Ceiling(known.Count * options.SilencePercentage / 100);
                for (var k = 0; k < n; k++)
                {
                    var (file, frames) = noise[(k + splitIndex) % noise.Length];
                    var offset = frames <= options.ClipSamples ? 0 : rng.NextInt64(frames - options.ClipSamples + 1);
                    result.Add(new SpeechCommandsItem(BackgroundNoiseFolder + "/" + file, options.SilenceLabel, BackgroundNoiseFolder,
                        offset, Math.Min(options.ClipSamples, frames)));
                }
            }
            return result.ToArray();
        }

        var classes = new List<string>();
        if (hasSilence) classes.Add(options.SilenceLabel);
        if (hasUnknown) classes.Add(options.UnknownLabel);
        classes.AddRange(keywords);
        return new SpeechCommandsCorpus(full, new LabelSet(classes), Split(train, 0), Split(valid, 1), Split(test, 2));
    }

    /// <summary>Writes the three splits as fairseq manifests with a class label file each, so the corpus loads
    /// with <c>AudioDataset.Load(path, null, labelName)</c> like the demo corpus: <c>train.tsv</c>, <c>valid.tsv</c>,
    /// <c>test.tsv</c> (root = the corpus folder) beside <c>train.&lt;labelName&gt;</c>, …; the silence clips are cut from
    /// the noise files into <c>_silence_/&lt;split&gt;_&lt;n&gt;.wav</c> under <paramref name="outputDir"/> and listed by absolute path.</summary>
    /// <param name="outputDir">Folder to write to (created if needed).</param>
    /// <param name="labelName">Extension of the label files. Default <c>kws</c>.</param>
    /// <returns>The manifest paths, train / validation / test.</returns>
    /// <exception cref="HArnessDataException">A noise file cannot be read or a file cannot be written.</exception>
    public (string Train, string Validation, string Test) Export(string outputDir, string labelName = "kws")
    {
        ArgumentNullException.ThrowIfNull(outputDir);
        ArgumentException.ThrowIfNullOrWhiteSpace(labelName);
        var dir = Path.GetFullPath(outputDir);
        Directory.CreateDirectory(dir);
        string Write(string split, IReadOnlyList<SpeechCommandsItem> items)
        {
            var entries = new List<HArnESS.Data.ManifestEntry>(items.Count);
            var k = 0;
            foreach (var item in items)
            {
                if (item.Word != BackgroundNoiseFolder)
                {
                    entries.Add(new HArnESS.Data.ManifestEntry(item.RelativePath, item.NumSamples));
                    continue;
                }
                var clip = WavReader.ReadRange(Path.Combine(Root, item.RelativePath), item.OffsetSamples, item.NumSamples);
                var path = Path.Combine(dir, "_silence_", $"{split}_{k++:D5}.wav");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                WavWriter.Write(path, clip);
                entries.Add(new HArnESS.Data.ManifestEntry(path, clip.Frames));
            }
            var tsv = Path.Combine(dir, split + ".tsv");
            new HArnESS.Data.Manifest(Root, entries).Save(tsv, absoluteRoot: true);
            HArnESS.Data.LabelFile.Save(Path.ChangeExtension(tsv, "." + labelName), items.Select(i => i.Label));
            return tsv;
        }
        return (Write("train", Train), Write("valid", Validation), Write("test", Test));
    }

    private static string[] ReadList(string root, string name)
    {
        var path = Path.Combine(root, name);
        if (!File.Exists(path)) throw new HArnessDataException($"Speech Commands list '{path}' does not exist.", path);
        var lines = DataFiles.ReadLines(path, "Speech Commands list");
        var result = new List<string>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var p = lines[i].Trim().Replace('\\', '/');
            if (p.Length == 0) continue;
            if (p.IndexOf('/') <= 0 || !File.Exists(Path.Combine(root, p)))
                throw new HArnessDataException($"Speech Commands list '{path}' line {i + 1}: '{p}' is not a file of a word folder under '{root}'.", path);
            result.Add(p);
        }
        return result.ToArray();
    }

    private static (string File, long Frames)[] NoiseFiles(string root, SpeechCommandsOptions options)
    {
        var dir = Path.Combine(root, BackgroundNoiseFolder);
        var files = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.wav").Order(StringComparer.Ordinal).ToArray() : [];
        if (files.Length == 0)
            throw new HArnessDataException(
                $"Silence clips need WAV files in '{dir}'; none found (set {nameof(SpeechCommandsOptions.SilencePercentage)} = 0 for no silence class).", dir);
        return files.Select(f => (Path.GetFileName(f), WavReader.ReadInfo(f).Frames)).ToArray();
    }
}
