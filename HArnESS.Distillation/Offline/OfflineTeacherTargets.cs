using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using HArnESS.Data;
using HArnESS.Distillation.Students;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Serialization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Offline;

/// <summary>
/// Teacher targets computed once and streamed in later epochs (issue 11, "offline"). <see cref="Dump"/> runs the
/// frozen teacher over every utterance of a manifest, whole and alone (no crop, no padding), keeps the chosen hidden
/// states (optionally projected on one PCA per layer), and writes them as float16 (or float32) safetensors shards
/// plus an index <c>offline-targets.json</c>; <see cref="Read"/> gives the targets of a training batch, sliced by
/// each row's crop: frames <c>round(offset / hop)</c> … <c>+ frames(length)</c> of the full utterance, where
/// <c>hop</c> is the teacher front-end's samples per frame.
/// </summary>
/// <remarks>
/// <para>What "the same crop" means: the targets are the teacher's layers over the whole utterance, cut to the crop's
/// frames. An uncropped row gets exactly what the online teacher gives it (to float16 precision); a cropped row gets
/// the teacher's view with full context, which differs from the online teacher run on the crop alone near the crop's
/// edges and, through self-attention, everywhere a little (fairseq's offline HuBERT labels make the same choice).</para>
/// <para>Reuse: the dump carries a signature of the teacher's weights (SHA-256 of its state dict), its config, the
/// layers, the PCA tensors, the stored type and how audio is read; every shard also carries the signature of its
/// utterances. A rerun of <see cref="Dump"/> with the same inputs reuses every finished shard (a crash mid-dump
/// resumes at the first unfinished one) and recomputes any whose signature differs. <see cref="EnsureMatches"/>
/// refuses a dump made by another teacher, layer set or PCA with a <see cref="HArnessDataException"/> naming what
/// differs.</para>
/// <para>Named errors (<see cref="HArnessDataException"/>, naming the file): a shard listed in the index but
/// missing or not holding what the index says; an utterance of a batch that is not in the dump; a crop beyond the
/// dumped utterance's length or a stored frame count that is not the teacher's for that length (length mismatch).</para>
/// <para>Not thread-safe; the open shard files are released by <see cref="Dispose"/>.</para>
/// </remarks>
public sealed class OfflineTeacherTargets : IDisposable
{
    /// <summary>File name of the index inside the dump folder.</summary>
    public const string IndexFileName = "offline-targets.json";

    /// <summary>The index format tag.</summary>
    public const string Format = "harness-offline-targets/1";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly DumpIndex _index;
    private readonly Dictionary<string, int> _byPath;
    private readonly SafeTensorsFile?[] _shards;
    private bool _disposed;

    private OfflineTeacherTargets(string directory, DumpIndex index, SpeechEncoderConfig teacherConfig)
    {
        Directory = directory;
        _index = index;
        TeacherConfig = teacherConfig;
        _byPath = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < index.Utterances.Count; i++) _byPath[index.Utterances[i].Path] = i;
        _shards = new SafeTensorsFile?[index.Shards.Count];
        SamplesPerFrame = HopOf(teacherConfig);
    }

    /// <summary>The dump folder.</summary>
    public string Directory { get; }

    /// <summary>The dump's signature (teacher weights, config, layers, PCA, stored type, audio reading).</summary>
    public string Signature => _index.Signature;

    /// <summary>SHA-256 of the teacher's state dict the dump was made from.</summary>
    public string TeacherWeightsHash => _index.TeacherWeightsSha256;

    /// <summary>The teacher's config (its front-end fixes the frame arithmetic of <see cref="Read"/>).</summary>
    public SpeechEncoderConfig TeacherConfig { get; }

    /// <summary>The teacher hidden states stored (HF convention: 0 = input to the first layer).</summary>
    public IReadOnlyList<int> Layers => _index.Layers;

    /// <summary>Width of every stored target (the teacher's width, or the PCA's component count).</summary>
    public int Dimension => _index.Dimension;

    /// <summary>True when the targets were projected on a PCA per layer before they were stored.</summary>
    public bool IsCompacted => _index.PcaSha256 is not null;

    /// <summary>The stored element type.</summary>
    public ScalarType StoredType => _index.StoredType == "F32" ? ScalarType.Float32 : ScalarType.Float16;

    /// <summary>Utterances in the dump.</summary>
    public int Utterances => _index.Utterances.Count;

    /// <summary>Frames in the dump (all utterances).</summary>
    public long TotalFrames => _index.Utterances.Sum(u => u.Frames);

    /// <summary>Shard files.</summary>
    public int ShardCount => _index.Shards.Count;

    /// <summary>Shards the last <see cref="Dump"/> reused (0 after <see cref="Open"/>).</summary>
    public int ReusedShards { get; private init; }

    /// <summary>Teacher samples per output frame (320 for HuBERT's CNN): the crop offset → frame arithmetic.</summary>
    public double SamplesPerFrame { get; }

    /// <summary>True when the utterance at <paramref name="fullPath"/> is in the dump.</summary>
    public bool Contains(string fullPath) => _byPath.ContainsKey(Path.GetFullPath(fullPath));

    /// <summary>The signature <see cref="Dump"/> gives a dump of <paramref name="teacher"/>'s <paramref name="layers"/>
    /// (compare with <see cref="Signature"/>).</summary>
    /// <param name="teacher">The teacher.</param>
    /// <param name="layers">The hidden states.</param>
    /// <param name="compaction">One PCA per layer, or null.</param>
    /// <param name="options">The dump options (stored type, audio).</param>
    public static string SignatureOf(DistillationTeacher teacher, IReadOnlyList<int> layers, IReadOnlyList<Pca>? compaction, OfflineTargetsOptions options)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(options);
        return Sign(ModuleWeightsHash.Compute(teacher.Encoder), teacher.Config.ToJson(), layers, PcaHash(compaction), TypeTag(options.StoredType), options.Audio);
    }

    /// <summary>Dumps (or reuses) the targets of every utterance of <paramref name="manifest"/> and opens them.
    /// Runs on the caller's thread; the teacher runs in eval mode without gradient on its own device (its training
    /// flag is restored). Progress is reported once per shard.</summary>
    /// <param name="teacher">The frozen teacher (not owned).</param>
    /// <param name="manifest">The utterances (whole files; the loader's crops are cut at <see cref="Read"/>).</param>
    /// <param name="layers">The teacher hidden states to store (e.g. 4, 8, 12).</param>
    /// <param name="options">Folder, shard size, stored type.</param>
    /// <param name="compaction">One PCA per entry of <paramref name="layers"/> (fitted on that layer's frames), or
    /// null to store the full width.</param>
    /// <param name="progress">One report per shard.</param>
    /// <param name="cancellationToken">Checked between utterances; finished shards stay for the rerun.</param>
    /// <exception cref="HArnessValidationException">Invalid options, a layer the teacher lacks, no layer, a repeated
    /// layer, or PCAs that do not fit the layers (all named).</exception>
    /// <exception cref="HArnessDataException">An audio file is missing or unreadable, or does not match its manifest entry.</exception>
    public static OfflineTeacherTargets Dump(DistillationTeacher teacher, Manifest manifest, IReadOnlyList<int> layers, OfflineTargetsOptions options,
        IReadOnlyList<Pca>? compaction = null, IProgress<OfflineTargetsProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var errors = new ValidationErrors();
        errors.Require(layers.Count > 0, "Layers", "At least one teacher layer must be dumped.");
        errors.Require(layers.Distinct().Count() == layers.Count, "Layers", $"Layers must be distinct, got [{string.Join(", ", layers)}].");
        foreach (var l in layers)
            errors.Require(l >= 0 && l <= teacher.Encoder.NumLayers, "Layers", $"Teacher layer {l} does not exist: the teacher has hidden states 0..{teacher.Encoder.NumLayers}.");
        if (compaction is not null)
        {
            errors.Require(compaction.Count == layers.Count, "Compaction", $"{compaction.Count} PCAs for {layers.Count} layers.");
            for (var i = 0; i < compaction.Count; i++)
                errors.Require(compaction[i].InputDim == teacher.Encoder.HiddenSize && compaction[i].ComponentCount == compaction[0].ComponentCount,
                    $"Compaction[{i}]", $"PCA {i} maps {compaction[i].InputDim} → {compaction[i].ComponentCount}; expected {teacher.Encoder.HiddenSize} → {compaction[0].ComponentCount} (the teacher's width, one k for every layer).");
        }
        errors.ThrowIfAny("Offline teacher targets");

        var log = options.LoggerFactory.CreateLogger<OfflineTeacherTargets>();
        var dir = Path.GetFullPath(options.Directory);
        System.IO.Directory.CreateDirectory(dir);
        var weights = ModuleWeightsHash.Compute(teacher.Encoder);
        var pcaHash = PcaHash(compaction);
        var configJson = teacher.Config.ToJson();
        var type = TypeTag(options.StoredType);
        var signature = Sign(weights, configJson, layers, pcaHash, type, options.Audio);
        var dim = compaction is null ? teacher.Encoder.HiddenSize : compaction[0].ComponentCount;
        var dataset = new AudioDataset(manifest, options.Audio);
        var device = teacher.Encoder.parameters().First().device;
        var utterances = new List<Utterance>(manifest.Count);
        var shards = new List<Shard>();
        var perShard = options.UtterancesPerShard;
        var shardCount = (manifest.Count + perShard - 1) / perShard;
        var reused = 0;
        var watch = Stopwatch.StartNew();
        double audioSeconds = 0;
        for (var s = 0; s < shardCount; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int start = s * perShard, end = Math.Min(manifest.Count, start + perShard);
            var name = string.Create(CultureInfo.InvariantCulture, $"shard-{s:D5}.safetensors");
            var file = Path.Combine(dir, name);
            var shardSignature = ShardSignature(signature, manifest, start, end);
            var entries = new List<Utterance>(end - start);
            for (var i = start; i < end; i++)
            {
                var samples = manifest.Entries[i].NumSamples;
                entries.Add(new Utterance(dataset.PathOf(i), samples, teacher.Encoder.OutputFrames(samples), s, Key(i)));
            }
            if (ShardIsFinished(file, shardSignature, entries, layers, dim))
            {
                reused++;
                log.LogInformation("Offline targets: shard {Shard}/{Shards} reused ({File})", s + 1, shardCount, file);
            }
            else
            {
                WriteShard(teacher, dataset, layers, compaction, options.StoredType, device, file, shardSignature, start, entries, cancellationToken);
                audioSeconds += entries.Sum(e => e.Samples) / (double)teacher.Config.SampleRate;
                log.LogInformation("Offline targets: shard {Shard}/{Shards} written ({File}, {Utterances} utterances)", s + 1, shardCount, file, entries.Count);
            }
            utterances.AddRange(entries);
            shards.Add(new Shard(name, shardSignature, entries.Count, entries.Sum(e => e.Frames)));
            var rate = watch.Elapsed.TotalSeconds > 0 ? audioSeconds / watch.Elapsed.TotalSeconds : 0;
            progress?.Report(new OfflineTargetsProgress(s + 1, shardCount, end, manifest.Count, reused, string.Create(CultureInfo.InvariantCulture,
                $"offline targets: shard {s + 1}/{shardCount}, {end}/{manifest.Count} utterances, {reused} reused, {rate:F1} audio s/s")));
        }
        var index = new DumpIndex
        {
            Format = Format, Signature = signature, TeacherWeightsSha256 = weights, TeacherConfig = configJson, Layers = layers.ToArray(),
            PcaSha256 = pcaHash, Dimension = dim, StoredType = type, Shards = shards, Utterances = utterances,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, IndexFileName), JsonSerializer.Serialize(index, JsonOptions));
        log.LogInformation("Offline targets: {Utterances} utterances, {Shards} shards ({Reused} reused), layers {Layers}, dim {Dim}, {Type}, in {Seconds:F1} s",
            utterances.Count, shardCount, reused, string.Join(",", layers), dim, type, watch.Elapsed.TotalSeconds);
        return new OfflineTeacherTargets(dir, index, teacher.Config) { ReusedShards = reused };
    }

    /// <summary>Opens a dump and checks that every shard it lists is there and holds what the index says (names and
    /// shapes, from the safetensors headers).</summary>
    /// <param name="directory">The dump folder.</param>
    /// <exception cref="HArnessDataException">No index, or a shard is missing or does not hold what the index says
    /// (the file named).</exception>
    /// <exception cref="HArnessFormatException">The index is not a <see cref="Format"/> file.</exception>
    public static OfflineTeacherTargets Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Runtime.HArnessRuntime.EnsureInitialized();
        var dir = Path.GetFullPath(directory);
        var path = Path.Combine(dir, IndexFileName);
        if (!File.Exists(path))
            throw new HArnessDataException($"No offline teacher targets in '{dir}': '{IndexFileName}' is missing (run OfflineTeacherTargets.Dump first).", path);
        DumpIndex? index;
        try { index = JsonSerializer.Deserialize<DumpIndex>(File.ReadAllText(path), JsonOptions); }
        catch (JsonException ex) { throw new HArnessFormatException($"'{path}' is not an offline-targets index: {ex.Message}", path, ex); }
        if (index is null || index.Format != Format || index.Layers is null || index.Shards is null || index.Utterances is null
            || index.TeacherConfig is null || index.Dimension < 1)
            throw new HArnessFormatException($"'{path}' is not a {Format} index (format '{index?.Format}', or a field is missing).", path);
        SpeechEncoderConfig config;
        try { config = SpeechEncoderConfig.FromJson(index.TeacherConfig, path); }
        catch (Exception ex) when (ex is HArnessConfigException or HArnessValidationException or JsonException)
        { throw new HArnessFormatException($"'{path}': the stored teacher config cannot be read: {ex.Message}", path, ex); }
        var targets = new OfflineTeacherTargets(dir, index, config);
        try
        {
            for (var s = 0; s < index.Shards.Count; s++) targets.ShardFile(s, checkAll: true);
        }
        catch
        {
            targets.Dispose();
            throw;
        }
        return targets;
    }

    /// <summary>Refuses a dump that was not made from this teacher, these layers and this PCA.</summary>
    /// <param name="teacher">The teacher the run distils from.</param>
    /// <param name="layers">The layers the student predicts (each must be in the dump).</param>
    /// <param name="compaction">The PCAs the student's targets are projected on, or null for the full width.</param>
    /// <exception cref="HArnessDataException">The teacher's weights or config differ, a layer is not in the dump, or
    /// the PCA differs (each difference named, with the index file).</exception>
    public void EnsureMatches(DistillationTeacher teacher, IReadOnlyList<int> layers, IReadOnlyList<Pca>? compaction = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(layers);
        var problems = new List<string>();
        var weights = ModuleWeightsHash.Compute(teacher.Encoder);
        if (weights != _index.TeacherWeightsSha256)
            problems.Add($"the teacher's weights differ (SHA-256 {weights[..12]}…, the dump was made from {_index.TeacherWeightsSha256[..Math.Min(12, _index.TeacherWeightsSha256.Length)]}…)");
        else if (teacher.Config.ToJson() != _index.TeacherConfig)
            problems.Add("the teacher's config differs from the one the dump was made with");
        var missing = layers.Where(l => !_index.Layers.Contains(l)).ToArray();
        if (missing.Length > 0) problems.Add($"teacher layer(s) {string.Join(", ", missing)} are not in the dump (it holds {string.Join(", ", _index.Layers)})");
        if (compaction is not null && compaction.Count != _index.Layers.Length)
            problems.Add($"{compaction.Count} PCAs were given but the dump holds {_index.Layers.Length} layers");
        else if (PcaHash(compaction) != _index.PcaSha256)
            problems.Add(_index.PcaSha256 is null ? "a PCA was given but the dump holds full-width layers"
                : compaction is null ? "the dump holds PCA-compacted layers but no PCA was given" : "the PCA differs from the one the dump was projected on");
        if (problems.Count > 0)
            throw new HArnessDataException(
                $"The offline teacher targets in '{Directory}' do not fit this run: {string.Join("; ", problems)}. Dump them again with this teacher (OfflineTeacherTargets.Dump recomputes on a signature mismatch).",
                Path.Combine(Directory, IndexFileName));
    }

    /// <summary>The targets of one training batch: for every row, the dumped utterance its path names, cut to the
    /// row's crop (see the class remarks), zero-padded to the longest row.</summary>
    /// <param name="batch">The batch (its paths, crop offsets and lengths are read; its tensors are not).</param>
    /// <param name="layers">The teacher layers wanted, in order (each in <see cref="Layers"/>).</param>
    /// <param name="device">Where the targets go; null = CPU.</param>
    /// <returns>One float32 <c>[B, T, Dimension]</c> tensor per layer and the valid frames <c>[B]</c> int64.</returns>
    /// <exception cref="ArgumentException">A layer is not in the dump.</exception>
    /// <exception cref="HArnessDataException">A row's utterance is not in the dump, its crop runs past the dumped
    /// length, or its shard is missing or does not hold it.</exception>
    public OfflineBatchTargets Read(AudioBatch batch, IReadOnlyList<int> layers, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(layers);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var l in layers)
            if (!_index.Layers.Contains(l))
                throw new ArgumentException($"Teacher layer {l} is not in the dump '{Directory}' (it holds {string.Join(", ", _index.Layers)}).", nameof(layers));
        var b = batch.Count;
        var rows = new (Utterance U, long Start, long Frames)[b];
        for (var r = 0; r < b; r++)
        {
            var path = Path.GetFullPath(batch.Paths[r]);
            if (!_byPath.TryGetValue(path, out var u))
                throw new HArnessDataException(
                    $"Utterance '{path}' (manifest entry {batch.Indices[r]}) is not in the offline teacher targets '{Directory}' ({_index.Utterances.Count} utterances); dump this manifest too.", path);
            rows[r] = Slice(_index.Utterances[u], batch.Offsets[r], batch.LengthsArray[r]);
        }
        var tMax = rows.Length == 0 ? 0 : rows.Max(x => x.Frames);
        var targets = new Tensor[layers.Count];
        using var scope = NewDisposeScope();
        for (var li = 0; li < layers.Count; li++)
        {
            var padded = zeros([b, tMax, _index.Dimension], ScalarType.Float32);
            for (var r = 0; r < b; r++)
            {
                var (u, start, n) = rows[r];
                if (n == 0) continue;
                using var inner = NewDisposeScope();
                var stored = LoadRow(u, layers[li]);
                padded[r].narrow(0, 0, n).copy_(stored.narrow(0, start, n));
            }
            targets[li] = (device is null ? padded : padded.to(device)).MoveToOuterDisposeScope();
        }
        var lengths = tensor(rows.Select(x => x.Frames).ToArray(), [b], ScalarType.Int64);
        if (device is not null) lengths = lengths.to(device);
        return new OfflineBatchTargets(targets, lengths.MoveToOuterDisposeScope());
    }

    /// <summary>The first frame and the frame count of a crop of <paramref name="length"/> samples from sample
    /// <paramref name="offset"/> of a dumped utterance.</summary>
    private (Utterance, long, long) Slice(Utterance u, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > u.Samples)
            throw new HArnessDataException(
                $"Length mismatch for '{u.Path}': the batch holds samples {offset}..{offset + length} but the dump holds {u.Samples} samples of it; the audio changed since the dump (dump it again).", u.Path);
        var n = TeacherConfig.FrontEnd.OutputFrames(length);
        if (n > u.Frames)
            throw new HArnessDataException(
                $"Length mismatch for '{u.Path}': a crop of {length} samples has {n} teacher frames but the dump holds {u.Frames}.", u.Path);
        var start = (long)Math.Round(offset / SamplesPerFrame, MidpointRounding.ToEven);
        start = Math.Min(start, u.Frames - n);
        return (u, start, n);
    }

    private Tensor LoadRow(Utterance u, int layer)
    {
        var file = ShardFile(u.Shard, checkAll: false);
        var key = $"{u.Key}.l{layer}";
        if (!file.Contains(key))
            throw new HArnessDataException($"Shard '{file.FilePath}' does not hold '{key}' ({u.Path}); the dump is incomplete (dump it again).", file.FilePath);
        var t = file.Load(key, dtype: ScalarType.Float32);
        if (t.dim() != 2 || t.shape[0] != u.Frames || t.shape[1] != _index.Dimension)
        {
            var shape = string.Join(", ", t.shape);
            t.Dispose();
            throw new HArnessDataException(
                $"Length mismatch in shard '{file.FilePath}': '{key}' ({u.Path}) is [{shape}], the index says [{u.Frames}, {_index.Dimension}].", file.FilePath);
        }
        return t;
    }

    private SafeTensorsFile ShardFile(int s, bool checkAll)
    {
        if (_shards[s] is { } open) return open;
        var shard = _index.Shards[s];
        var path = Path.Combine(Directory, shard.File);
        if (!File.Exists(path))
            throw new HArnessDataException(
                $"Missing shard: '{path}' (shard {s + 1} of {_index.Shards.Count}, {shard.Utterances} utterances) is listed in '{IndexFileName}' but not there; dump again to recompute it.", path);
        SafeTensorsFile file;
        try { file = SafeTensors.Open(path); }
        catch (HArnessFormatException ex) { throw new HArnessDataException($"Shard '{path}' is unreadable: {ex.Message}", path, ex); }
        try
        {
            if (!file.Metadata.TryGetValue("signature", out var sig) || sig != shard.Signature)
                throw new HArnessDataException($"Shard '{path}' was written for another dump (its signature differs from the index's); dump again.", path);
            if (checkAll)
                foreach (var u in _index.Utterances.Where(u => u.Shard == s))
                    foreach (var l in _index.Layers)
                    {
                        var key = $"{u.Key}.l{l}";
                        if (!file.Contains(key))
                            throw new HArnessDataException($"Shard '{path}' does not hold '{key}' ({u.Path}); the dump is incomplete (dump it again).", path);
                        var shape = file.GetInfo(key).Shape;
                        if (shape.Count != 2 || shape[0] != u.Frames || shape[1] != _index.Dimension)
                            throw new HArnessDataException(
                                $"Length mismatch in shard '{path}': '{key}' ({u.Path}) is [{string.Join(", ", shape)}], the index says [{u.Frames}, {_index.Dimension}].", path);
                    }
        }
        catch
        {
            file.Dispose();
            throw;
        }
        _shards[s] = file;
        return file;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var f in _shards) f?.Dispose();
    }

    private static void WriteShard(DistillationTeacher teacher, AudioDataset dataset, IReadOnlyList<int> layers, IReadOnlyList<Pca>? compaction,
        ScalarType stored, Device device, string file, string signature, int start, List<Utterance> entries, CancellationToken ct)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            for (var j = 0; j < entries.Count; j++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var item = dataset.Read(start + j);
                var wave = tensor(item.Samples, [1, item.Samples.Length], ScalarType.Float32).to(device);
                using var output = teacher.Forward(wave, null, layers);
                for (var li = 0; li < layers.Count; li++)
                {
                    var h = output.HiddenStates[layers[li]][0];
                    if (h.shape[0] != entries[j].Frames)
                        throw new HArnessDataException(
                            $"Length mismatch for '{entries[j].Path}': the teacher gave {h.shape[0]} frames for {entries[j].Samples} samples, its front-end formula {entries[j].Frames}.", entries[j].Path);
                    if (compaction is not null) h = compaction[li].Transform(h.to(ScalarType.Float32).cpu());
                    tensors[$"{entries[j].Key}.l{layers[li]}"] = h.to(stored).cpu().contiguous().MoveToOuterDisposeScope();
                }
            }
            SafeTensors.Save(file, tensors, new Dictionary<string, string> { ["format"] = Format, ["signature"] = signature });
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static bool ShardIsFinished(string file, string signature, List<Utterance> entries, IReadOnlyList<int> layers, int dim)
    {
        if (!File.Exists(file)) return false;
        try
        {
            using var f = SafeTensors.Open(file);
            if (!f.Metadata.TryGetValue("signature", out var sig) || sig != signature) return false;
            foreach (var u in entries)
                foreach (var l in layers)
                {
                    var key = $"{u.Key}.l{l}";
                    if (!f.Contains(key)) return false;
                    var shape = f.GetInfo(key).Shape;
                    if (shape.Count != 2 || shape[0] != u.Frames || shape[1] != dim) return false;
                }
            return true;
        }
        catch (HArnessFormatException)
        {
            return false;
        }
    }

    private static string Key(int entry) => string.Create(CultureInfo.InvariantCulture, $"u{entry}");

    private static double HopOf(SpeechEncoderConfig config)
    {
        // Samples per output frame from the front-end's own formula over 10 s and 30 s (exact for strided stacks).
        long a = 10L * config.SampleRate, b = 30L * config.SampleRate;
        long fa = config.FrontEnd.OutputFrames(a), fb = config.FrontEnd.OutputFrames(b);
        return fb > fa ? (double)(b - a) / (fb - fa) : a / (double)Math.Max(1, fa);
    }

    private static string TypeTag(ScalarType t) => t == ScalarType.Float32 ? "F32" : "F16";

    private static string Sign(string weights, string configJson, IReadOnlyList<int> layers, string? pca, string type, AudioDatasetOptions a) =>
        StageSignature.Hash("offline-targets", weights, configJson, string.Join(",", layers), pca, type,
            string.Create(CultureInfo.InvariantCulture, $"audio(rate={a.SampleRate},resample={a.Resample},mono={a.DownmixToMono},normalize={a.Normalize})"));

    private static string ShardSignature(string signature, Manifest manifest, int start, int end)
    {
        var entries = new StringBuilder();
        for (var i = start; i < end; i++)
            entries.Append(CultureInfo.InvariantCulture, $"{manifest.GetFullPath(i)}\t{manifest.Entries[i].NumSamples}\n");
        return StageSignature.Hash(signature, string.Create(CultureInfo.InvariantCulture, $"entries {start}-{end}"), entries.ToString());
    }

    private static string? PcaHash(IReadOnlyList<Pca>? compaction)
    {
        if (compaction is null) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in compaction)
            foreach (var t in new[] { p.Mean, p.Components, p.ExplainedVariance })
            {
                using var cpu = t.detach().cpu().contiguous();
                hash.AppendData(Encoding.UTF8.GetBytes($"{t.dtype}|{string.Join(",", t.shape)}|{p.Whiten}\n"));
                hash.AppendData(cpu.bytes);
            }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private sealed record DumpIndex
    {
        public string Format { get; init; } = "";
        public string Signature { get; init; } = "";
        public string TeacherWeightsSha256 { get; init; } = "";
        public string TeacherConfig { get; init; } = "";
        public int[] Layers { get; init; } = [];
        public string? PcaSha256 { get; init; }
        public int Dimension { get; init; }
        public string StoredType { get; init; } = "F16";
        public List<Shard> Shards { get; init; } = [];
        public List<Utterance> Utterances { get; init; } = [];
    }

    private sealed record Shard(string File, string Signature, int Utterances, long Frames);

    private sealed record Utterance(string Path, long Samples, long Frames, int Shard, string Key);
}
