using System.Globalization;
using System.Text.Json;
using HArnESS.Data;
using HArnESS.Encoders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// An immutable plan for making unit targets (every method returns a new builder and leaves the one it was called on
/// unchanged, so one base plan serves several iterations): dump features (<see cref="Mfcc39"/> or <see cref="Layer"/>)
/// into shards, optionally fit a PCA, fit mini-batch k-means, label the whole corpus, and save everything into
/// <see cref="Into"/>'s folder: <c>features/</c> (shards), <c>pca.safetensors</c>, <c>kmeans.safetensors</c>,
/// <c>{split}.km</c> and <see cref="TargetManifest"/> (<c>targets.json</c>).
/// </summary>
/// <remarks>
/// Every product carries a signature of what it was made from: the features (a teacher's weights hash, its layer
/// and options), how the audio was read (normalisation, rate), the manifest's entries and sample counts, and the
/// PCA and k-means options. A restarted run reuses each finished dump shard and each finished stage (PCA, k-means,
/// labels) whose signature matches and recomputes everything else. Checks that need no features (options, the
/// teacher's layer, PCA components against the feature width, K against the frames the manifest's sample counts
/// give, shards against utterances) run before the dump and are reported together.
/// </remarks>
public sealed class TargetBuilder
{
    private readonly Plan _plan;

    internal TargetBuilder(Manifest manifest) : this(new Plan(manifest)) { }

    private TargetBuilder(Plan plan) => _plan = plan;

    /// <summary>HuBERT iteration-1 features: MFCC (no energy) + Δ + ΔΔ, 39 dims.</summary>
    public TargetBuilder Mfcc39() => new(_plan with { Features = new FeatureSpec(null, 0, 0, null), Normalize = false });

    /// <summary>A teacher layer's hidden states (iteration ≥ 2).</summary>
    /// <param name="teacher">The teacher (not owned; its training flag is left as it is). Its weights are hashed when
    /// the run starts, so a teacher changed in place gets new features.</param>
    /// <param name="layer">Hidden-state index (0 = before the first transformer layer, up to the teacher's layer count).</param>
    /// <param name="maxChunkSamples">Samples per forward pass of one long utterance (fairseq 1,600,000).</param>
    /// <param name="normalizeWaveform">Normalise each whole utterance to zero mean and unit variance first (large/XLS-R
    /// models whose config lacks <see cref="SpeechEncoderConfig.NormalizeWaveform"/>; done by <see cref="AudioDataset"/>).
    /// A teacher whose config sets it normalises its input itself, so this adds nothing for it.</param>
    public TargetBuilder Layer(SpeechEncoder teacher, int layer, long maxChunkSamples = 1_600_000, bool normalizeWaveform = false)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        return new(_plan with
        {
            Features = new FeatureSpec(teacher, layer, maxChunkSamples, null),
            Normalize = normalizeWaveform && !teacher.Config.NormalizeWaveform,
        });
    }

    /// <summary>Any feature computation.</summary>
    public TargetBuilder Features(IUtteranceFeatureReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new(_plan with { Features = new FeatureSpec(null, 0, 0, reader) });
    }

    /// <summary>How the audio is read (sample rate, resampling, down-mix, length check); waveform normalisation is
    /// set by <see cref="Layer"/>.</summary>
    public TargetBuilder Audio(AudioDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(_plan with { AudioOptions = options });
    }

    /// <summary>Utterances per padded dump batch (null = 16, or 1 for a teacher on the CPU) and padded samples per
    /// batch (see <see cref="FeatureDumpOptions"/>); they change the speed of the dump, not its features.</summary>
    public TargetBuilder DumpBatches(int? batchSize, long maxBatchSamples = 1_600_000) =>
        new(_plan with { DumpBatchSize = batchSize, DumpBatchSamples = maxBatchSamples });

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

    /// <summary>Where the run logs (as the <c>LoggerFactory</c> of every stage's options, which this replaces): each
    /// stage started, finished or reused with its signature (information), utterances too short for a frame (dropped
    /// from the fit), an invalid plan, NaN features and refused shards (warning), k-means progress (debug). Default
    /// <see cref="NullLoggerFactory.Instance"/>: nothing is logged.</summary>
    /// <param name="loggerFactory">The factory (categories <c>HArnESS.Distillation.Targets.*</c>).</param>
    public TargetBuilder Logging(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        return new(_plan with { LoggerFactory = loggerFactory });
    }

    /// <summary>Frame-level reference labels (e.g. phones per frame, aligned with the manifest) to report phone
    /// purity, cluster purity and PNMI.</summary>
    public TargetBuilder ReferenceLabels(LabelFile frameLabels) => new(_plan with { References = frameLabels });

    /// <summary>Checks the plan without dumping anything and reports every problem at once: missing choices, invalid
    /// options, a teacher layer out of range, more shards than utterances, PCA components wider than the features,
    /// K larger than the frames the manifest's sample counts give.</summary>
    /// <exception cref="HArnessValidationException">Anything failed; each error names its option.</exception>
    public void Validate() => Check(_plan);

    /// <summary>Runs the plan on the calling thread (tensor work stays on the caller's thread, with its grad mode and
    /// dispose scopes): validate → dump → (PCA) → k-means → labels → (metrics), saving each product and
    /// <c>targets.json</c> after each stage. The returned task is complete when this returns.</summary>
    /// <param name="progress">Receives one report per meaningful step (see <see cref="TargetProgress"/>).</param>
    /// <param name="cancellationToken">Checked between batches and steps; finished products stay for a restart.</param>
    /// <exception cref="HArnessValidationException">The plan is invalid (thrown before the task is returned).</exception>
    /// <exception cref="HArnessDataException">Bad data (a missing WAV named with its manifest line, NaN features, a
    /// shard dumped with other settings), named; carried by the task.</exception>
    public Task<TargetResult> FitAsync(IProgress<TargetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var p = _plan;
        Check(p);
        try
        {
            return Task.FromResult(Run(p, progress, cancellationToken));
        }
        catch (OperationCanceledException ex)
        {
            return Task.FromCanceled<TargetResult>(ex.CancellationToken.IsCancellationRequested ? ex.CancellationToken : new CancellationToken(true));
        }
        catch (Exception ex)
        {
            return Task.FromException<TargetResult>(ex);
        }
    }

    private static string SplitOf(Plan p) => p.Split ?? (p.Manifest.SourcePath is { } src ? Path.GetFileNameWithoutExtension(src) : "train");

    private static FeatureDumpOptions DumpOptions(Plan p, string featureDir) => new()
    {
        OutputDir = featureDir,
        Split = SplitOf(p),
        Shards = p.Shards,
        Ranks = p.Ranks,
        Audio = (p.AudioOptions ?? new AudioDatasetOptions { SampleRate = p.Features?.Teacher?.Config.SampleRate ?? AudioDatasetOptions.DefaultSampleRate })
            with { Normalize = p.Normalize },
        BatchSize = p.DumpBatchSize,
        MaxBatchSamples = p.DumpBatchSamples,
        LoggerFactory = p.LoggerFactory,
    };

    private static ILogger Log(Plan p) => p.LoggerFactory.CreateLogger(typeof(TargetGenerator).FullName!);

    private static void Check(Plan p)
    {
        Runtime.HArnessRuntime.EnsureInitialized();
        var errors = new ValidationErrors();
        var f = p.Features;
        if (f is null) errors.Add("Features", "Choose the features: .Mfcc39(), .Layer(teacher, n) or .Features(reader).");
        if (p.KMeans is null) errors.Add("KMeans", "Choose the clustering: .KMeans(k).");
        if (string.IsNullOrWhiteSpace(p.OutputDir)) errors.Add("OutputDir", "Choose the output folder: .Into(dir).");
        if (p.KMeans is not null) p.KMeans.Collect(errors, "KMeans");
        p.Pca?.Collect(errors, "Pca");
        errors.Require(p.Fraction > 0 && p.Fraction <= 1, "SampleFraction", $"SampleFraction must be in (0, 1], got {p.Fraction}.");
        errors.Require(p.InMemoryBytes >= 0, "InMemoryLimit", $"InMemoryLimit must be >= 0, got {p.InMemoryBytes}.");
        errors.Require(p.Manifest.Count > 0, "Manifest", $"The manifest '{p.Manifest.SourcePath ?? "(in memory)"}' has no entries.");
        DumpOptions(p, p.OutputDir ?? "-").Collect(errors, p.Manifest.Count);
        if (f?.Teacher is { } teacher)
        {
            errors.Require(f.Layer >= 0 && f.Layer <= teacher.NumLayers, "Layer",
                $"Layer must be in [0, {teacher.NumLayers}] for this teacher ({teacher.NumLayers} transformer layers), got {f.Layer}.");
            var rate = DumpOptions(p, "-").Audio.SampleRate;
            errors.Require(rate == teacher.Config.SampleRate, "Audio.SampleRate",
                $"Audio.SampleRate = {rate} Hz differs from the teacher's {teacher.Config.SampleRate} Hz.");
            errors.Require(f.MaxChunkSamples >= 400, "MaxChunkSamples", $"maxChunkSamples must be at least 400 (one CNN receptive field), got {f.MaxChunkSamples}.");
        }
        if (f is not null)
        {
            // Width and frame counts do not depend on the layer: an out-of-range layer still gets the other checks.
            var reader = f.Teacher is { } t
                ? new TeacherLayerFeatureReader(t, Math.Clamp(f.Layer, 0, t.NumLayers), Math.Max(400, f.MaxChunkSamples))
                : f.Create();
            if (p.Pca?.Components is { } c && c > reader.Dimension)
                errors.Add("Pca.Components", $"Pca.Components = {c} exceeds the feature dimension {reader.Dimension} of {Kind(f)}.");
            var audio = DumpOptions(p, "-").Audio;
            if (p.KMeans is { Clusters: >= 1 } km && !audio.Resample && p.Fraction > 0 && p.Fraction <= 1 && p.Shards >= 1)
            {
                var frames = FramesToFit(p, reader);
                if (km.Clusters > frames)
                    errors.Add("KMeans.Clusters", string.Create(CultureInfo.InvariantCulture,
                        $"K = {km.Clusters} clusters is larger than the {frames} frames to fit that the sample counts of manifest '{p.Manifest.SourcePath ?? "(in memory)"}' give (fraction {p.Fraction}); lower K or add data."));
            }
        }
        if (!errors.IsEmpty)
            Log(p).LogWarning("targets: the plan is invalid ({Count} problems): {Errors}", errors.Errors.Count,
                string.Join("; ", errors.Errors.Select(e => $"{e.Option}: {e.Message}")));
        errors.ThrowIfAny("Target plan");
    }

    private static string Kind(FeatureSpec f) => f.Teacher is not null ? "the teacher" : f.Custom is not null ? "the feature reader" : "MFCC-39";

    /// <summary>Frames of the utterances the fit will see, from the manifest's sample counts and the same seeded
    /// sample <see cref="FeatureShardSource"/> draws.</summary>
    private static long FramesToFit(Plan p, IUtteranceFeatureReader reader)
    {
        var rng = new Random(p.FractionSeed);
        long frames = 0;
        for (var rank = 0; rank < p.Shards; rank++)
        {
            var (start, end) = FeatureDumper.ShardRange(p.Manifest.Count, rank, p.Shards);
            foreach (var u in FeatureShardSource.SelectUtterances(end - start, p.Fraction, rng))
                frames += reader.FrameCount(p.Manifest.Entries[start + u].NumSamples);
        }
        return frames;
    }

    private static TargetResult Run(Plan p, IProgress<TargetProgress>? progress, CancellationToken ct)
    {
        var device = p.Device ?? Runtime.HArnessRuntime.Device;
        var split = SplitOf(p);
        var outDir = Path.GetFullPath(p.OutputDir!);
        var featureDir = Path.Combine(outDir, "features");
        var manifestPath = Path.Combine(outDir, TargetManifest.FileName);
        Directory.CreateDirectory(outDir);
        var log = Log(p);
        var reused = new List<TargetStage>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Report(TargetStage stage, long done, long total, string unit, string message, bool wasReused = false)
        {
            if (progress is not null && seen.Add(message)) progress.Report(new TargetProgress(stage, done, total, unit, message, wasReused));
        }

        // 1. features
        var reader = p.Features!.Create();
        log.LogInformation("targets: started in '{OutputDir}': {Features} of {Utterances} utterances in '{Manifest}', {Shards} shard(s), PCA {Pca}, K = {Clusters}",
            outDir, reader.Description, p.Manifest.Count, p.Manifest.SourcePath ?? "(in memory)", p.Shards,
            p.Pca is null ? "none" : p.Pca.Components is { } pc ? $"{pc} components" : $"variance {p.Pca.VarianceThreshold}", p.KMeans!.Clusters);
        var dumpOptions = DumpOptions(p, featureDir);
        var dumper = new FeatureDumper(p.Manifest, reader, dumpOptions);
        var dumpProgress = progress is null ? null : new SyncProgress<FeatureDumpProgress>(d =>
            Report(TargetStage.Dump, d.Utterance, d.UtterancesInShard, "utterances", "dump: " + d, d.SkippedFinishedShard));
        var shards = dumper.Run(dumpProgress, ct);
        var expected = Enumerable.Range(0, p.Shards).Select(r =>
        {
            var (s, e) = FeatureDumper.ShardRange(p.Manifest.Count, r, p.Shards);
            return dumper.Signature(s, e);
        }).ToArray();
        for (var r = 0; r < p.Shards; r++)
        {
            var done = FeatureDumper.ShardPath(featureDir, split, r, p.Shards, ".done");
            if (FeatureDumper.ReadMarker(done) is { } marker && marker.Signature != expected[r])
            {
                log.LogWarning("targets: refused feature shard {Rank}/{Shards} ('{Path}'): its signature {Found} differs from this plan's {Expected}",
                    r, p.Shards, done, marker.Signature, expected[r]);
                throw new HArnessDataException($"Feature shard {r} of {p.Shards} ('{done}') was dumped with other settings or another teacher; dump it again with this plan.", done);
            }
        }
        var dumpSignature = StageSignature.Hash(expected);
        log.LogInformation("targets: dump {Outcome}: {Frames} frames in {Shards} shard(s), signature {Signature}",
            shards.All(s => !s.Recomputed) ? "reused" : "finished", shards.Sum(s => s.Frames), shards.Count, dumpSignature);
        var previous = TryLoad(manifestPath);
        var state = new TargetManifest
        {
            Features = reader.Description, Split = split, Shards = p.Shards, Fraction = p.Fraction, FractionSeed = p.FractionSeed,
            DumpSignature = dumpSignature,
        };
        var fitSource = new FeatureShardSource(featureDir, split, p.Shards, p.Fraction, p.FractionSeed);
        var allFrames = new FeatureShardSource(featureDir, split, p.Shards);
        var fraction = string.Create(CultureInfo.InvariantCulture, $"fraction={p.Fraction:R},seed={p.FractionSeed}");

        Pca? pca = null;
        string? pcaPath = null;
        KMeansCodebook? codebook = null;
        try
        {
            // 2. PCA
            IFeatureSource kmSource = fitSource;
            string? pcaSignature = null;
            if (p.Pca is not null)
            {
                pcaSignature = StageSignature.Hash("pca", dumpSignature, fraction, JsonSerializer.Serialize(p.Pca));
                pcaPath = Path.Combine(outDir, "pca.safetensors");
                if (previous?.Pca is { } done && done.Signature == pcaSignature && File.Exists(pcaPath))
                {
                    pca = Targets.Pca.Load(pcaPath);
                    reused.Add(TargetStage.Pca);
                    log.LogInformation("targets: PCA reused (finished before, signature {Signature}): {Components} components from '{Path}'", pcaSignature, pca.ComponentCount, pcaPath);
                    Report(TargetStage.Pca, 1, 1, "fits", $"pca: reused (finished before): {pca.ComponentCount} components, {pca.RetainedVarianceRatio:P1} of the variance", true);
                }
                else
                {
                    log.LogInformation("targets: PCA started on {Rows} frames x {Dimension} dims, signature {Signature}", fitSource.Rows, fitSource.Dimension, pcaSignature);
                    pca = Targets.Pca.Fit(fitSource, p.Pca with { LoggerFactory = p.LoggerFactory }, device, ct);
                    pca.Save(pcaPath);
                    log.LogInformation("targets: PCA finished: {Components} components, {Retained:P1} of the variance → '{Path}'", pca.ComponentCount, pca.RetainedVarianceRatio, pcaPath);
                    Report(TargetStage.Pca, 1, 1, "fits", string.Create(CultureInfo.InvariantCulture,
                        $"pca: fitted on {fitSource.Rows:N0} frames x {fitSource.Dimension} dims: {pca.ComponentCount} components, {pca.RetainedVarianceRatio:P1} of the variance"));
                }
                state = state with { Pca = new TargetPcaRecord(pcaSignature, "pca.safetensors", pca.ComponentCount, pca.RetainedVarianceRatio, pca.Whiten, fitSource.Rows) };
                state = state.Save(manifestPath);
                kmSource = pca.TransformSource(fitSource);
            }

            // 3. k-means
            var inMemory = kmSource.Rows * kmSource.Dimension * 4L <= p.InMemoryBytes;
            var kmSignature = StageSignature.Hash("kmeans", dumpSignature, fraction, pcaSignature, JsonSerializer.Serialize(p.KMeans), inMemory ? "in-memory" : "streamed");
            var codebookPath = Path.Combine(outDir, "kmeans.safetensors");
            KMeansFit fit;
            if (previous?.KMeans is { } km && km.Signature == kmSignature && File.Exists(codebookPath))
            {
                codebook = KMeansCodebook.Load(codebookPath, device);
                fit = new KMeansFit(codebook, km.Inertia, km.Rows, km.Steps, km.StoppedEarly, km.InitInertia, km.LloydIterations);
                reused.Add(TargetStage.KMeans);
                log.LogInformation("targets: k-means reused (finished before, signature {Signature}): K = {Clusters}, inertia {Inertia:G6} per frame from '{Path}'",
                    kmSignature, km.Clusters, km.MeanInertia, codebookPath);
                Report(TargetStage.KMeans, 1, 1, "fits", string.Create(CultureInfo.InvariantCulture,
                    $"kmeans: reused (finished before): K = {km.Clusters}, inertia {km.MeanInertia:G6} per frame"), true);
            }
            else
            {
                var kmProgress = progress is null ? null : new SyncProgress<KMeansProgress>(k => Report(TargetStage.KMeans, k.Step, k.TotalSteps, Unit(k.Phase), Describe(k)));
                log.LogInformation("targets: k-means started on {Rows} frames x {Dimension} dims ({Mode}), signature {Signature}",
                    kmSource.Rows, kmSource.Dimension, inMemory ? "in memory" : "streamed", kmSignature);
                var km2 = new MiniBatchKMeans(p.KMeans! with { LoggerFactory = p.LoggerFactory }, device);
                if (inMemory)
                {
                    using var all = Load(kmSource, ct);
                    fit = km2.Fit(all, kmProgress, ct);
                }
                else
                {
                    fit = km2.Fit(kmSource, kmProgress, ct);
                }
                codebook = fit.Codebook;
                codebook.Save(codebookPath, new Dictionary<string, string>
                {
                    ["features"] = reader.Description,
                    ["pca"] = pca is null ? "none" : $"{pca.ComponentCount}",
                    ["inertia"] = fit.Inertia.ToString("R", CultureInfo.InvariantCulture),
                    ["signature"] = kmSignature,
                });
                log.LogInformation("targets: k-means finished: K = {Clusters}, inertia {Inertia:G6} per frame over {Rows} frames → '{Path}'",
                    codebook.Clusters, fit.MeanInertia, fit.Rows, codebookPath);
            }
            state = state with
            {
                KMeans = new TargetKMeansRecord(kmSignature, "kmeans.safetensors", codebook.Clusters, codebook.Dimension, fit.Inertia, fit.MeanInertia,
                    fit.Rows, fit.Steps, fit.StoppedEarly, fit.InitInertia, fit.LloydIterations),
            };
            state = state.Save(manifestPath);

            // 4. labels
            var labelName = split + ".km";
            var labelPath = Path.Combine(outDir, labelName);
            var labelSignature = StageSignature.Hash("labels", kmSignature, dumpSignature);
            if (previous?.Labels is { } lab && lab.Signature == labelSignature && File.Exists(labelPath))
            {
                reused.Add(TargetStage.Labels);
                log.LogInformation("targets: labels reused (finished before, signature {Signature}): {Utterances} utterances in '{Path}'", labelSignature, lab.Utterances, labelPath);
                Report(TargetStage.Labels, lab.Utterances, lab.Utterances, "utterances", $"labels: reused (finished before): {lab.Utterances} utterances in {labelPath}", true);
            }
            else
            {
                log.LogInformation("targets: labels started for {Utterances} utterances, signature {Signature}", allFrames.Utterances, labelSignature);
                var lines = UnitLabelWriter.Write(codebook, allFrames, labelPath, pca, ct);
                log.LogInformation("targets: labels finished: {Utterances} utterances, {Frames} frames → '{Path}'", lines, allFrames.Rows, labelPath);
                Report(TargetStage.Labels, lines, allFrames.Utterances, "utterances", string.Create(CultureInfo.InvariantCulture,
                    $"labels: {lines} utterances, {allFrames.Rows:N0} frames → {labelPath}"));
            }
            state = state with { Labels = new TargetLabelsRecord(labelSignature, labelName, allFrames.Utterances) };

            // 5. metrics
            ClusterQualityReport? quality = null;
            if (p.References is not null)
            {
                var q = new ClusterQuality();
                q.Add(p.References, LabelFile.Load(labelPath, p.Manifest, LabelKind.Units));
                quality = q.Compute();
                Report(TargetStage.Metrics, quality.Frames, quality.Frames, "frames", string.Create(CultureInfo.InvariantCulture,
                    $"metrics: PNMI {quality.Pnmi:F4}, phone purity {quality.PhonePurity:F4}, cluster purity {quality.ClusterPurity:F4} over {quality.Frames:N0} frames"));
            }
            state = (state with { Quality = quality }).Save(manifestPath);
            log.LogInformation("targets: finished in '{OutputDir}'; reused stages: {Reused}", outDir, reused.Count == 0 ? "none" : string.Join(", ", reused));
            return new TargetResult(outDir, featureDir, codebook, codebookPath, pca, p.Pca is null ? null : pcaPath, labelPath, fit, shards, quality, state, reused);
        }
        catch
        {
            codebook?.Dispose();
            pca?.Dispose();
            throw;
        }
    }

    private static string Unit(KMeansPhase phase) => phase switch
    {
        KMeansPhase.Init => "inits",
        KMeansPhase.MiniBatch => "steps",
        KMeansPhase.Lloyd => "iterations",
        _ => "passes",
    };

    private static string Describe(KMeansProgress k) => k.Phase switch
    {
        KMeansPhase.Init => string.Create(CultureInfo.InvariantCulture,
            $"kmeans: k-means++ init {k.Step}/{k.TotalSteps}, best inertia {k.Inertia:G6} per frame ({k.Frames:N0} validation frames)"),
        KMeansPhase.MiniBatch => string.Create(CultureInfo.InvariantCulture,
            $"kmeans: mini-batch step {k.Step}/{k.TotalSteps}, smoothed inertia {k.Inertia:G6} per frame ({k.Frames:N0}-frame batches)"),
        KMeansPhase.Lloyd => string.Create(CultureInfo.InvariantCulture,
            $"kmeans: Lloyd iteration {k.Step}/{k.TotalSteps}, inertia {k.Inertia:G6} per frame"),
        _ => string.Create(CultureInfo.InvariantCulture, $"kmeans: final inertia {k.Inertia:G6} per frame over {k.Frames:N0} frames"),
    };

    private static TargetManifest? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        try { return TargetManifest.Load(path); }
        catch (HArnessException) { return null; }
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

    /// <summary>The feature choice: a teacher layer, a custom reader, or MFCC-39 (both null).</summary>
    private sealed record FeatureSpec(SpeechEncoder? Teacher, int Layer, long MaxChunkSamples, IUtteranceFeatureReader? Custom)
    {
        public IUtteranceFeatureReader Create() =>
            Custom ?? (Teacher is not null ? new TeacherLayerFeatureReader(Teacher, Layer, MaxChunkSamples) : new Mfcc39FeatureReader());
    }

    private sealed record Plan(Manifest Manifest)
    {
        public FeatureSpec? Features { get; init; }
        public bool Normalize { get; init; }
        public AudioDatasetOptions? AudioOptions { get; init; }
        public int? DumpBatchSize { get; init; }
        public long DumpBatchSamples { get; init; } = 1_600_000;
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
        public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
    }
}
