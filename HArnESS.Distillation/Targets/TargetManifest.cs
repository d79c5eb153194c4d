using System.Text.Json.Serialization;

namespace HArnESS.Distillation.Targets;

/// <summary>
/// <c>targets.json</c>: what a target run made, with the signature of every stage, written after each finished stage
/// (atomically). The next iteration reads it back (<see cref="Load"/>) to find the labels, codebook and PCA; a
/// restarted run reuses each stage whose signature still matches and recomputes the rest. Paths are relative to the
/// folder holding the file (<see cref="Resolve"/>).
/// </summary>
public sealed record TargetManifest
{
    /// <summary>The file name inside a target folder.</summary>
    public const string FileName = "targets.json";

    /// <summary>The format version this library writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Format version (<see cref="CurrentVersion"/>).</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The feature reader's description (kind, options, teacher weights hash).</summary>
    public required string Features { get; init; }

    /// <summary>Split name used in file names.</summary>
    public required string Split { get; init; }

    /// <summary>Shards of the dump.</summary>
    public required int Shards { get; init; }

    /// <summary>Fraction of utterances PCA and k-means were fitted on.</summary>
    public double Fraction { get; init; } = 1.0;

    /// <summary>Seed of that fraction's sample.</summary>
    public int FractionSeed { get; init; }

    /// <summary>Folder of the feature shards, relative to the manifest.</summary>
    public string FeatureDir { get; init; } = "features";

    /// <summary>Signature of the whole dump: every shard's signature (reader, audio options, entries and their sample counts).</summary>
    public required string DumpSignature { get; init; }

    /// <summary>The PCA stage, when one was fitted.</summary>
    public TargetPcaRecord? Pca { get; init; }

    /// <summary>The k-means stage, once finished.</summary>
    public TargetKMeansRecord? KMeans { get; init; }

    /// <summary>The labels stage, once finished.</summary>
    public TargetLabelsRecord? Labels { get; init; }

    /// <summary>Unit quality against reference labels, when they were given.</summary>
    public ClusterQualityReport? Quality { get; init; }

    /// <summary>Reads <c>targets.json</c> from a target folder or from the file itself.</summary>
    /// <exception cref="HArnessDataException">The file does not exist.</exception>
    /// <exception cref="HArnessFormatException">It is not a target manifest of a known version.</exception>
    public static TargetManifest Load(string folderOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderOrFile);
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, FileName) : folderOrFile;
        if (!File.Exists(path)) throw new HArnessDataException($"No target manifest at '{path}'.", path);
        var m = VersionedManifestJson.Read<TargetManifest>(path, "target manifest", CurrentVersion, x => x.Version);
        return m with { SourcePath = Path.GetFullPath(path) };
    }

    /// <summary>Absolute path of the file this was loaded from or saved to last, or null.</summary>
    [JsonIgnore]
    public string? SourcePath { get; private init; }

    /// <summary>A path of this manifest (relative to its folder) made absolute.</summary>
    /// <exception cref="InvalidOperationException">The manifest was neither loaded nor saved.</exception>
    public string Resolve(string relativePath) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(SourcePath ?? throw new InvalidOperationException("The manifest has no file yet."))!, relativePath));

    /// <summary>Writes the manifest atomically and returns it with <see cref="SourcePath"/> set.</summary>
    public TargetManifest Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        VersionedManifestJson.Write(path, this);
        return this with { SourcePath = Path.GetFullPath(path) };
    }
}

/// <summary>A finished PCA stage.</summary>
/// <param name="Signature">What it was fitted from (dump signature, fraction, seed, PCA options).</param>
/// <param name="Path">The saved PCA (safetensors), relative to the manifest.</param>
/// <param name="Components">Components kept.</param>
/// <param name="RetainedVariance">Fraction of the variance they explain.</param>
/// <param name="Whiten">Whether the transform whitens.</param>
/// <param name="Frames">Frames it was fitted on.</param>
public sealed record TargetPcaRecord(string Signature, string Path, int Components, double RetainedVariance, bool Whiten, long Frames);

/// <summary>A finished k-means stage (the <see cref="KMeansFit"/> without its codebook, which is in <paramref name="Path"/>).</summary>
/// <param name="Signature">What it was fitted from (PCA or dump signature, fraction, k-means options, in-memory or streamed).</param>
/// <param name="Path">The saved codebook (safetensors), relative to the manifest.</param>
/// <param name="Clusters">K.</param>
/// <param name="Dimension">Centre dimension (PCA components when a PCA was applied).</param>
/// <param name="Inertia">Sum of squared distances of the fitted frames to their centres.</param>
/// <param name="MeanInertia">Mean squared distance per frame.</param>
/// <param name="Rows">Frames fitted.</param>
/// <param name="Steps">Mini-batch steps run.</param>
/// <param name="StoppedEarly">Whether early stopping ended the mini-batch phase.</param>
/// <param name="InitInertia">Best init's inertia (a sum over the validation sample).</param>
/// <param name="LloydIterations">Lloyd iterations run.</param>
public sealed record TargetKMeansRecord(
    string Signature, string Path, int Clusters, int Dimension, double Inertia, double MeanInertia, long Rows, int Steps,
    bool StoppedEarly, double InitInertia, int LloydIterations);

/// <summary>A finished labels stage.</summary>
/// <param name="Signature">What the labels were made from (the k-means signature and the dump).</param>
/// <param name="Path">The <c>.km</c> file, aligned with the manifest, relative to the target manifest.</param>
/// <param name="Utterances">Lines written.</param>
public sealed record TargetLabelsRecord(string Signature, string Path, int Utterances);
