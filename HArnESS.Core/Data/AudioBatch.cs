using HArnESS.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Data;

/// <summary>
/// A padded batch of utterances from <see cref="AudioLoader"/>, with lengths, padding mask and the labels of its
/// items. The tensors are on the CPU and created on the thread that received the batch (so a dispose scope there
/// owns them); dispose the batch, or its scope, when done.
/// </summary>
public sealed class AudioBatch : IDisposable
{
    private readonly IReadOnlyDictionary<string, LabelFile> _labelFiles;
    private readonly Action? _onDispose;
    private bool _disposed;

    internal AudioBatch(IReadOnlyList<AudioItem> items, IReadOnlyDictionary<string, LabelFile> labelFiles, Action? onDispose = null)
    {
        HArnessRuntime.EnsureInitialized();
        _labelFiles = labelFiles;
        _onDispose = onDispose;
        var b = items.Count;
        var lengths = items.Select(i => (long)i.Samples.Length).ToArray();
        var t = b == 0 ? 0 : lengths.Max();
        if ((long)b * t > Array.MaxLength)
            throw new HArnessConfigException(
                $"A batch of {b} utterances padded to {t} samples is too large for one tensor; set MaxTokens or MaxSampleSize.", nameof(AudioLoaderOptions.MaxTokens));
        var wave = new float[b * t];
        var mask = new bool[b * t];
        for (var i = 0; i < b; i++)
        {
            items[i].Samples.CopyTo(wave, i * t);
            mask.AsSpan((int)(i * t + lengths[i]), (int)(t - lengths[i])).Fill(true);
        }
        Waveforms = torch.tensor(wave, [b, t], ScalarType.Float32);
        PaddingMask = torch.tensor(mask, [b, t]);
        Lengths = torch.tensor(lengths, [b], ScalarType.Int64);
        LengthsArray = lengths;
        Indices = items.Select(i => i.Index).ToArray();
        Paths = items.Select(i => i.Path).ToArray();
        Offsets = items.Select(i => i.Offset).ToArray();
        Labels = labelFiles.ToDictionary(
            kv => kv.Key, kv => (IReadOnlyList<string>)Indices.Select(i => kv.Value[i]).ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Samples, zero-padded at the end, <c>[batch, time]</c> float32.</summary>
    public Tensor Waveforms { get; }

    /// <summary>Valid samples per utterance, <c>[batch]</c> int64.</summary>
    public Tensor Lengths { get; }

    /// <summary>True where <see cref="Waveforms"/> is padding, <c>[batch, time]</c> bool.</summary>
    public Tensor PaddingMask { get; }

    /// <summary>Valid samples per utterance, as an array (same values as <see cref="Lengths"/>).</summary>
    public IReadOnlyList<long> LengthsArray { get; }

    /// <summary>Manifest entry index of every row.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>Absolute audio path of every row.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>First sample of the file each row starts at (non-zero where the loader cropped).</summary>
    public IReadOnlyList<long> Offsets { get; }

    /// <summary>The raw label line of every row, per label set (<c>Labels["ltr"][row]</c>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Labels { get; }

    /// <summary>Number of utterances.</summary>
    public int Count => Indices.Count;

    /// <summary>Class ids of every row as positions in <paramref name="classes"/>, one class list for every split
    /// (usually the training split's <see cref="LabelFile.Classes"/>), <c>[batch]</c> int64. A validation or test split
    /// that lacks a class keeps the training ids; a label outside the list is refused, never given a new id.</summary>
    /// <param name="name">Label set name (<c>emo</c>, <c>dia</c>, <c>spk</c>, <c>kws</c>…).</param>
    /// <param name="classes">The class names, id = position (e.g. <c>trainLabels.Classes</c>); distinct.</param>
    /// <exception cref="ArgumentException"><paramref name="classes"/> is empty or holds a name twice.</exception>
    /// <exception cref="HArnessConfigException">The dataset has no such label set, or it is not a class label file.</exception>
    /// <exception cref="HArnessDataException">A row's label is not in <paramref name="classes"/>; the message names the label file, its line and the label.</exception>
    public Tensor ClassTargets(string name, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0) throw new ArgumentException("The class list is empty.", nameof(classes));
        var file = LabelFileOf(name);
        if (file.Kind != LabelKind.Class)
            throw new HArnessConfigException($"Label file '{file.Path}' holds {file.Kind} labels, not {LabelKind.Class} labels.", nameof(name));
        var ids = new Dictionary<string, int>(classes.Count, StringComparer.Ordinal);
        for (var c = 0; c < classes.Count; c++)
            if (!ids.TryAdd(classes[c], c)) throw new ArgumentException($"Class '{classes[c]}' appears twice in the class list.", nameof(classes));
        var targets = new long[Count];
        for (var r = 0; r < Count; r++)
        {
            var label = file[Indices[r]];
            targets[r] = ids.TryGetValue(label, out var id) ? id
                : throw new HArnessDataException(
                    $"Label file '{file.Path}' line {Indices[r] + 1}: {name} label '{label}' is not in the class list ({string.Join(", ", classes)}); " +
                    "class ids come from one label set (the training split's), so a label it lacks cannot be given an id.", file.Path);
        }
        return torch.tensor(targets, [Count], ScalarType.Int64);
    }

    /// <summary>
    /// Unit labels (<c>.km</c>) of every row, padded with <paramref name="padValue"/>: <c>Targets [batch, units]</c> int64 and
    /// <c>Lengths [batch]</c> int64. Without <paramref name="labelRate"/> the whole utterance's labels are given; with it
    /// each row's labels are cut to the audio the row holds, as fairseq's HuBERT dataset does after a crop: from frame
    /// <c>round(offset · labelRate / sampleRate)</c>, <c>round(length · labelRate / sampleRate)</c> frames (fewer where the file has fewer).
    /// </summary>
    /// <param name="name">Label set name, usually <c>km</c>.</param>
    /// <param name="padValue">Value of padded positions (-100 is the ignore index of cross-entropy).</param>
    /// <param name="labelRate">Label frames per second (50 for HuBERT's 20 ms frames), or null for uncropped labels.</param>
    /// <param name="sampleRate">Audio samples per second.</param>
    /// <exception cref="HArnessConfigException">The dataset has no such label set, it is not a unit label file, or a rate is not positive.</exception>
    public (Tensor Targets, Tensor Lengths) UnitTargets(string name, long padValue = -100, double? labelRate = null, int sampleRate = AudioDatasetOptions.DefaultSampleRate)
    {
        var file = LabelFileOf(name);
        if (labelRate is <= 0 || sampleRate <= 0)
            throw new HArnessConfigException($"labelRate and sampleRate must be positive, got {labelRate} and {sampleRate}.", nameof(labelRate));
        var units = new ArraySegment<int>[Count];
        for (var r = 0; r < Count; r++)
        {
            var all = file.Units(Indices[r]).ToArray();
            if (labelRate is not { } rate)
            {
                units[r] = all;
                continue;
            }
            // Banker's rounding, as Python's round() in fairseq.
            var start = (int)Math.Min(all.Length, Math.Round(Offsets[r] * rate / sampleRate, MidpointRounding.ToEven));
            var size = (int)Math.Min(all.Length - start, Math.Round(LengthsArray[r] * rate / sampleRate, MidpointRounding.ToEven));
            units[r] = new ArraySegment<int>(all, start, size);
        }
        var t = units.Length == 0 ? 0 : units.Max(u => u.Count);
        var data = new long[Count * t];
        Array.Fill(data, padValue);
        for (var r = 0; r < units.Length; r++)
            for (var j = 0; j < units[r].Count; j++) data[r * t + j] = units[r][j];
        return (torch.tensor(data, [Count, t], ScalarType.Int64),
                torch.tensor(units.Select(u => (long)u.Count).ToArray(), [Count], ScalarType.Int64));
    }

    private LabelFile LabelFileOf(string name) =>
        _labelFiles.TryGetValue(name, out var f) ? f
            : throw new HArnessConfigException(
                $"The dataset has no label set '{name}'; it has: {(_labelFiles.Count == 0 ? "none" : string.Join(", ", _labelFiles.Keys))}.", nameof(name));

    /// <summary>Disposes the tensors (safe to call twice).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Waveforms.Dispose();
        PaddingMask.Dispose();
        Lengths.Dispose();
        _onDispose?.Invoke();
    }
}
