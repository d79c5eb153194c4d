using HArnESS.Serialization;
using System.Text.Json;
using HArnESS.Data;
using HArnESS.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// An immutable plan for making unit targets (every method returns a new builder, so one base plan serves several
/// iterations): dump features (<see cref="Mfcc39"/> or <see cref="Layer"/>) into shards, optionally fit a PCA, fit
/// mini-batch k-means, label the whole corpus, and save everything into <see cref="Into"/>'s folder:
/// <c>features/</c> (shards), <c>pca.safetensors</c>, <c>kmeans.safetensors</c>, <c>{split}.km</c>,
/// <c>targets.json</c>. A stopped run restarts at the next unfinished feature shard.
/// </summary>
public sealed class TargetBuilder
{
    private readonly Plan _plan;

    internal TargetBuilder(Manifest manifest) : this(new Plan(manifest)) { }

    private TargetBuilder(Plan plan) => _plan = plan;

    /// <summary>HuBERT iteration-1 features: MFCC (no energy) + Δ + ΔΔ, 39 dims.</summary>
    public TargetBuilder Mfcc39() => new(_plan with { Reader = () => new Mfcc39FeatureReader() });

    /// <summary>A teacher layer's hidden states (iteration ≥ 2).</summary>
    /// <param name="teacher">The teacher (not owned).</param>
    /// <param name="layer">Hidden-state index (0 = before the first transformer layer).</param>
    /// <param name="maxChunkSamples">Samples per forward pass (fairseq 1,600,000).</param>
    /// <param name="normalizeWaveform">Layer-normalise waveforms first (large/XLS-R models).</param>
    public TargetBuilder Layer(SpeechEncoder teacher, int layer, long maxChunkSamples = 1_600_000, bool normalizeWaveform = false)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        return new(_plan with { Reader = () => new TeacherLayerFeatureReader(teacher, layer, maxChunkSamples, normalizeWaveform) });
    }

    /// <summary>Any feature computation.</summary>
    public TargetBuilder Features(IUtteranceFeatureReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new(_plan with { Reader = () => reader });
    }

    /// <summary>Compacts features with a PCA of <paramref name="components"/> dims before k-means.</summary>
    public TargetBuilder Pca(int components, bool whiten = false) => new(_plan with { Pca = new PcaOptions { Components = components, Whiten = whiten } });

    /// <summary>Compacts features with the fewest PCA components explaining <paramref name="varianceThreshold"/> of the variance.</summary>
    public TargetBuilder Pca(double varianceThreshold, bool whiten = false) =>
        new(_plan with { Pca = new PcaOptions { VarianceThreshold = varianceThreshold, Whiten = whiten } });

    /// <summary>No PCA (the default).</summary>
    public TargetBuilder NoPca() => new(_plan with { Pca = null });

    /// <summary>K clusters, with other k-means settings adjusted by <paramref name="configure"/> (defaults: the HuBERT recipe).</summary>
    public TargetBuilder KMeans(int k, Func<KMeansOptions, KMeansOptions>? configure = null)
    {
        var o = new KMeansOptions { Clusters = k };
        if (configure is not null) o = configure(o) with { Clusters = k };
        return new(_plan with { KMeans = o });
    }

    /// <summary>Shards of the feature dump (and the ranks this process dumps; null = all).</summary>
    public TargetBuilder Shards(int shards, IReadOnlyList<int>? ranks = null) => new(_plan with { Shards = shards, Ranks = ranks });

    /// <summary>Fit PCA and k-means on a seeded fraction of the utterances (the recipe's <c>percent</c>); all are labelled.</summary>
    public TargetBuilder SampleFraction(double fraction, int seed = 0) => new(_plan with { Fraction = fraction, FractionSeed = seed });

    /// <summary>The split name used in file names (default: the manifest's file name, else "train").</summary>
    public TargetBuilder Split(string split) => new(_plan with { Split = split });

    /// <summary>The output folder.</summary>
    public TargetBuilder Into(string outputDir) => new(_plan with { OutputDir = outputDir });

    /// <summary>The device PCA, k-means and labelling run on (default: <see cref="Runtime.HArnessRuntime.Device"/>).</summary>
    public TargetBuilder OnDevice(Device device) => new(_plan with { Device = device });

    /// <summary>Fit k-means in memory (sklearn's sampling) when the fitted features take at most this many bytes;
    /// larger corpora are streamed (default 1 GiB).</summary>
    public TargetBuilder InMemoryLimit(long bytes) => new(_plan with { InMemoryBytes = bytes });

    /// <summary>Frame-level reference labels (e.g. phones per frame, aligned with the manifest) to report phone
    /// purity, cluster purity and PNMI.</summary>
    public TargetBuilder ReferenceLabels(LabelFile frameLabels) => new(_plan with { References = frameLabels });

    /// <summary>Runs the plan: dump → (PCA) → k-means → labels → (metrics), saving each product.</summary>
    /// <exception cref="HArnessConfigException">No feature kind, no k-means, no output folder, or an invalid option.</exception>
    /// <exception cref="HArnessDataException">Bad data (K larger than the frames, NaN features, a missing shard…), named.</exception>
    public Task<TargetResult> FitAsync(IProgress<TargetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var p = _plan;
        if (p.Reader is null) throw new HArnessConfigException("Choose the features: .Mfcc39(), .Layer(teacher, n) or .Features(reader).", "Features");
        if (p.KMeans is null) throw new HArnessConfigException("Choose the clustering: .KMeans(k).", "KMeans");
        if (string.IsNullOrWhiteSpace(p.OutputDir)) throw new HArnessConfigException("Choose the output folder: .Into(dir).", "OutputDir");
        p.KMeans.Validate();
        p.Pca?.Validate();
        if (!(p.Fraction > 0) || p.Fraction > 1) throw new HArnessConfigException($"SampleFraction must be in (0, 1], got {p.Fraction}.", "SampleFraction");
        if (p.InMemoryBytes < 0) throw new HArnessConfigException($"InMemoryLimit must be >= 0, got {p.InMemoryBytes}.", "InMemoryLimit");
        Runtime.HArnessRuntime.EnsureInitialized();
        return Task.Run(() => Run(p, progress, cancellationToken), cancellationToken);
    }

    private static TargetResult Run(Plan p, IProgress<TargetProgress>? progress, CancellationToken ct)
    {
        var device = p.Device ?? Runtime.HArnessRuntime.Device;
        var split = p.Split ?? (p.Manifest.SourcePath is { } src ? Path.GetFileNameWithoutExtension(src) : "train");
        var outDir = Path.GetFullPath(p.OutputDir!);
        var featureDir = Path.Combine(outDir, "features");
        Directory.CreateDirectory(outDir);

        // 1. features
        var reader = p.Reader!();
        var dumper = new FeatureDumper(p.Manifest, reader, new FeatureDumpOptions { OutputDir = featureDir, Split = split, Shards = p.Shards, Ranks = p.Ranks });
        var dumpProgress = progress is null ? null : new SyncProgress<FeatureDumpProgress>(d =>
            progress.Report(new TargetProgress("dump", d.Utterance, d.UtterancesInShard, $"shard {d.Rank}/{d.Shards}{(d.SkippedFinishedShard ? " (finished before)" : "")}")));
        var shards = dumper.Run(dumpProgress, ct);
        var fitSource = new FeatureShardSource(featureDir, split, p.Shards, p.Fraction, p.FractionSeed);
        var allFrames = new FeatureShardSource(featureDir, split, p.Shards);

        // 2. PCA
        Pca? pca = null;
        string? pcaPath = null;
        KMeansCodebook? codebook = null;
        try
        {
            IFeatureSource kmSource = fitSource;
            if (p.Pca is not null)
            {
                progress?.Report(new TargetProgress("pca", 0, 1, $"{fitSource.Rows} frames x {fitSource.Dimension}"));
                pca = global::HArnESS.Distillation.Targets.Pca.Fit(fitSource, p.Pca, device, ct);
                pcaPath = Path.Combine(outDir, "pca.safetensors");
                pca.Save(pcaPath);
                kmSource = pca.TransformSource(fitSource);
                progress?.Report(new TargetProgress("pca", 1, 1, $"{pca.ComponentCount} components, {pca.RetainedVarianceRatio:P1} of the variance"));
            }

            // 3. k-means
            if (p.KMeans!.Clusters > kmSource.Rows)
                throw new HArnessDataException(
                    $"K = {p.KMeans.Clusters} clusters is larger than the {kmSource.Rows} frames to fit (manifest '{p.Manifest.SourcePath ?? "(in memory)"}', fraction {p.Fraction}); lower K or add data.");
            var km = new MiniBatchKMeans(p.KMeans, device);
            var kmProgress = progress is null ? null : new SyncProgress<KMeansProgress>(k =>
                progress.Report(new TargetProgress("kmeans", k.Step, k.TotalSteps, $"{k.Phase} inertia {k.Inertia:G6}")));
            KMeansFit fit;
            if (kmSource.Rows * kmSource.Dimension * 4L <= p.InMemoryBytes)
            {
                using var all = Load(kmSource, ct);
                fit = km.Fit(all, kmProgress, ct);
            }
            else
            {
                fit = km.Fit(kmSource, kmProgress, ct);
            }
            codebook = fit.Codebook;
            var codebookPath = Path.Combine(outDir, "kmeans.safetensors");
            codebook.Save(codebookPath, new Dictionary<string, string>
            {
                ["features"] = reader.Description,
                ["pca"] = pca is null ? "none" : $"{pca.ComponentCount}",
                ["inertia"] = fit.Inertia.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            });

            // 4. labels
            progress?.Report(new TargetProgress("labels", 0, allFrames.Utterances, null));
            var labelPath = Path.Combine(outDir, split + ".km");
            UnitLabelWriter.Write(codebook, allFrames, labelPath, pca, ct);
            progress?.Report(new TargetProgress("labels", allFrames.Utterances, allFrames.Utterances, labelPath));

            // 5. metrics
            ClusterQualityReport? quality = null;
            if (p.References is not null)
            {
                var q = new ClusterQuality();
                q.Add(p.References, LabelFile.Load(labelPath, p.Manifest, LabelKind.Units));
                quality = q.Compute();
                progress?.Report(new TargetProgress("metrics", 1, 1, $"PNMI {quality.Pnmi:F4}"));
            }

            var summary = new
            {
                features = reader.Description,
                split,
                shards = p.Shards,
                fraction = p.Fraction,
                pca = pca is null ? null : new { components = pca.ComponentCount, retained_variance = pca.RetainedVarianceRatio, whiten = pca.Whiten, path = "pca.safetensors" },
                kmeans = new { clusters = codebook.Clusters, dimension = codebook.Dimension, inertia = fit.Inertia, mean_inertia = fit.MeanInertia, rows = fit.Rows, steps = fit.Steps, path = "kmeans.safetensors" },
                labels = split + ".km",
                quality,
            };
            AtomicFile.WriteAllText(Path.Combine(outDir, "targets.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
            return new TargetResult(outDir, featureDir, codebook, codebookPath, pca, pcaPath, labelPath, fit, shards, quality);
        }
        catch
        {
            codebook?.Dispose();
            pca?.Dispose();
            throw;
        }
    }

    private static Tensor Load(IFeatureSource source, CancellationToken ct)
    {
        var parts = source.ReadChunks(ct).ToList();
        try
        {
            return parts.Count == 1 ? parts[0].clone() : torch.cat(parts, 0);
        }
        finally
        {
            foreach (var t in parts) t.Dispose();
        }
    }

    /// <summary>Forwards reports synchronously (Progress&lt;T&gt; would post them to the thread pool, out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }

    private sealed record Plan(Manifest Manifest)
    {
        public Func<IUtteranceFeatureReader>? Reader { get; init; }
        public PcaOptions? Pca { get; init; }
        public KMeansOptions? KMeans { get; init; }
        public int Shards { get; init; } = 1;
        public IReadOnlyList<int>? Ranks { get; init; }
        public double Fraction { get; init; } = 1.0;
        public int FractionSeed { get; init; }
        public string? Split { get; init; }
        public string? OutputDir { get; init; }
        public Device? Device { get; init; }
        public long InMemoryBytes { get; init; } = 1L << 30;
        public LabelFile? References { get; init; }
    }
}
