using System.Text.Json.Serialization;

namespace HArnESS.Distillation.Pipelines;

/// <summary>
/// <c>pipeline.json</c> in a self-distillation run folder: one record per finished iteration, written atomically
/// after each. A rerun skips an iteration whose record carries the signature the current options give (and whose
/// model folder is there); an unfinished iteration has no record, and its targets and checkpoints are reused by
/// their own signatures. Paths are relative to the run folder.
/// </summary>
public sealed record SelfDistillationManifest
{
    /// <summary>The file name inside the run folder.</summary>
    public const string FileName = "pipeline.json";

    /// <summary>The format version this library writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Format version (<see cref="CurrentVersion"/>).</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The finished iterations, in order.</summary>
    public IReadOnlyList<SelfDistillationIteration> Iterations { get; init; } = [];

    /// <summary>The students distilled from the final teacher (<see cref="StudentDistillationPipeline"/>), in order;
    /// empty when none were asked for or none has finished. A rerun skips a student whose record carries the
    /// signature the current teacher and options give (and whose student folder is there).</summary>
    public IReadOnlyList<DistilledStudent> Students { get; init; } = [];

    /// <summary>This manifest with <paramref name="iterations"/>; the students are kept only while their records
    /// still fit (a student's signature chains the final iteration's, so changed iterations make them stale anyway).</summary>
    internal SelfDistillationManifest WithIterations(IReadOnlyList<SelfDistillationIteration> iterations) => this with { Iterations = iterations };

    /// <summary>The record of the student named <paramref name="name"/>, or null.</summary>
    public DistilledStudent? Student(string name) => Students.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));

    /// <summary>Reads <c>pipeline.json</c> from a run folder or the file itself; null when there is none yet.</summary>
    /// <exception cref="HArnessFormatException">The file is not a pipeline manifest of a known version.</exception>
    public static SelfDistillationManifest? TryLoad(string folderOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(folderOrFile);
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, FileName) : folderOrFile;
        if (!File.Exists(path)) return null;
        var m = VersionedManifestJson.Read<SelfDistillationManifest>(path, "self-distillation manifest", CurrentVersion, x => x.Version);
        return m;
    }

    /// <summary>Writes the manifest atomically.</summary>
    /// <param name="path">The file.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        VersionedManifestJson.Write(path, this);
    }
}

/// <summary>One finished iteration of the pipeline.</summary>
/// <param name="Iteration">1-based.</param>
/// <param name="Signature">Hash of everything that decides its products (options, corpus, the previous iteration's signature).</param>
/// <param name="Folder">Its folder, relative to the run folder.</param>
/// <param name="Features">What was clustered ("mfcc39" or "layer N of iteration i-1", with PCA when used).</param>
/// <param name="Clusters">K.</param>
/// <param name="LabelRate">Labels per second of its units.</param>
/// <param name="Targets">The targets folder (<c>targets.json</c>, codebook, <c>.km</c>), relative to the run folder.</param>
/// <param name="ValidLabels">The held-out <c>.km</c>, relative to the run folder.</param>
/// <param name="Model">The saved model (encoder + masked-prediction head), relative to the run folder.</param>
/// <param name="Steps">Updates trained.</param>
/// <param name="FinalLoss">Mean training loss of the last 10 updates.</param>
/// <param name="MaskedAccuracy">Masked-prediction accuracy of the final model on the held-out utterances.</param>
/// <param name="MaskedFrames">Masked held-out frames it was measured on.</param>
/// <param name="Chance">1 / K.</param>
/// <param name="MajorityRate">Share of the most frequent unit among the held-out labels (what always guessing it scores, about).</param>
public sealed record SelfDistillationIteration(int Iteration, string Signature, string Folder, string Features, int Clusters, double LabelRate,
    string Targets, string ValidLabels, string Model, long Steps, double FinalLoss, double MaskedAccuracy, long MaskedFrames, double Chance,
    double MajorityRate);

/// <summary>One student distilled into the run folder by <see cref="StudentDistillationPipeline"/>.</summary>
/// <param name="Name">Its name ("hs", "hst", …).</param>
/// <param name="Signature">Hash of everything that decides it (the teacher's signature, its config, the losses,
/// initialisation, front-end stage, trainer, loaders, corpus and seed).</param>
/// <param name="Folder">Its folder (<c>students/{name}-{signature}</c>: <c>checkpoints/</c>, <c>student/</c>,
/// <c>report.json</c>), relative to the run folder.</param>
/// <param name="Student">The saved student (<c>DistillationStudent.Load</c>; its encoder alone loads with
/// <c>SpeechEncoder.Load</c>), relative to the run folder.</param>
/// <param name="TeacherLayers">The predicted teacher layers, in head order.</param>
/// <param name="Parameters">The student's parameters without its heads (what remains after distillation).</param>
/// <param name="Steps">Updates trained (stage 2, the whole student).</param>
/// <param name="FrontEndSteps">Updates of the front-end stage, 0 without one.</param>
/// <param name="FirstRegression">Mean regression loss of the first 10 updates.</param>
/// <param name="FinalRegression">Mean regression loss of the last 10 updates.</param>
/// <param name="FirstKl">Mean discriminative (KL) loss of the first 10 updates, or null without it.</param>
/// <param name="FinalKl">Mean discriminative loss of the last 10 updates, or null.</param>
/// <param name="CosineBefore">Per predicted layer, the held-out cosine similarity to the teacher of the untrained
/// (initialised) student, or null without a held-out manifest.</param>
/// <param name="CosineAfter">The same after training, or null.</param>
public sealed record DistilledStudent(string Name, string Signature, string Folder, string Student, IReadOnlyList<int> TeacherLayers,
    long Parameters, long Steps, long FrontEndSteps, double FirstRegression, double FinalRegression, double? FirstKl, double? FinalKl,
    IReadOnlyList<double>? CosineBefore, IReadOnlyList<double>? CosineAfter);
