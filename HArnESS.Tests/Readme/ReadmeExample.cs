using HArnESS.Checkpoints;
using HArnESS.Data;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Runtime;
using System.Text.RegularExpressions;
using NUnit.Framework;
namespace HArnESS.Tests.Readme;

/// <summary>
/// The README's code example, compiled with the tests so it cannot rot: <see cref="ReadmeExampleTests"/> checks that
/// the README shows exactly the lines between the markers, <see cref="ReadmeExampleRunTests"/> runs it on a tiny saved
/// teacher and the demo corpus, <c>Packaging/PackageTests</c> runs the README's text as the program of a console app
/// built against the packed packages, and <c>HArnESS.Notebooks.Tests</c> runs the same text as a notebook cell.
/// </summary>
internal static class ReadmeExample
{
    /// <summary>The README's first <c>```csharp</c> block, as written (using directives included).</summary>
    public static string ReadmeText()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var block = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.That(block.Success, Is.True, "README.md has a ```csharp block");
        return block.Groups[1].Value;
    }

    /// <summary>Lays out <paramref name="dir"/> as the example expects: the demo corpus at <c>data/demo</c> (a link to
    /// the repository's) and a tiny teacher saved at <c>hubert-base-ls960/</c>: the wav2vec 2.0 CNN (20 ms frames) with
    /// 16 channels and layer norm (so the dump runs padded batches), 6 layers of width 48.</summary>
    public static void LayOut(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        Directory.CreateSymbolicLink(Path.Combine(dir, "data", "demo"), Path.Combine(TestPaths.RepoRoot, "data", "demo"));
        using var tiny = SpeechEncoder.Create().WithCnnFrontEnd(ConvStack.Wav2Vec2WithDim(16), ConvNormMode.LayerNorm, bias: true)
            .WithTransformer(layers: 6, dim: 48, heads: 4, ffn: 96).WithPositionalConv(kernel: 16, groups: 4).PostLayerNorm().Build();
        tiny.Save(Path.Combine(dir, TeacherFolder));
    }

    /// <summary>Where the example loads its teacher from, relative to the working directory.</summary>
    public const string TeacherFolder = "hubert-base-ls960";

    /// <summary>Checks what a run of the example left in <paramref name="dir"/>: 50-unit labels for every line of the
    /// demo training manifest, aligned with the teacher's frames, a PCA keeping 90 % of the variance, a saved student.</summary>
    public static void CheckOutputs(string dir)
    {
        var manifest = Manifest.Load(Path.Combine(dir, "data", "demo", "train.tsv"));
        var targets = TargetManifest.Load(Path.Combine(dir, "runs", "targets"));
        Assert.That(targets.KMeans!.Clusters, Is.EqualTo(50));
        Assert.That(targets.Pca!.RetainedVariance, Is.GreaterThanOrEqualTo(0.9));
        Assert.That(targets.Pca.Components, Is.LessThanOrEqualTo(48));
        Assert.That(targets.Features, Does.Contain("layer=6"));
        var labels = LabelFile.Load(targets.Resolve(targets.Labels!.Path), manifest, LabelKind.Units);
        using var teacher = SpeechEncoder.Load(Path.Combine(dir, TeacherFolder));
        for (var i = 0; i < manifest.Count; i++)
            Assert.That(labels.Units(i).Count, Is.EqualTo(teacher.OutputFrames(manifest.Entries[i].NumSamples)), $"line {i}");
        Assert.That(labels.Lines.SelectMany(l => l.Split(' ')).Distinct().Count(), Is.GreaterThan(25), "most of the 50 units are used");
        Assert.That(File.Exists(Path.Combine(dir, "runs", "student", "config.json")), Is.True);
    }

    public static async Task RunAsync()
    {
        // <readme>
        HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Auto, Seed = 1 });

        // The teacher: a checkpoint as people download it (HF folder, .safetensors, .bin or fairseq .pt).
        var teacher = SpeechEncoder.Load("hubert-base-ls960/");

        // A shallow student built from the same blocks, with a log-Mel front-end instead of the CNN.
        var student = SpeechEncoder.Create()
            .WithFbankFrontEnd(melBins: 80, stack: 2)
            .WithTransformer(layers: 2, dim: 768, heads: 12, ffn: 3072)
            .PostLayerNorm()
            .Build();

        // HArnESS targets: teacher layer 6 → PCA-compacted → k-means units (.km files aligned with the manifest);
        // sized for the 95 s demo corpus (on LibriSpeech: .Pca(components: 256).KMeans(k: 500)).
        var targets = await TargetGenerator.From("data/demo/train.tsv")
            .Layer(teacher, 6).Pca(varianceThreshold: 0.9).KMeans(k: 50)
            .Into("runs/targets")
            .FitAsync(new Progress<TargetProgress>(p => Console.WriteLine(p.Message)));

        Console.WriteLine($"student: {student.CountParameters():N0} parameters; units: {targets.LabelPath}");
        student.Save("runs/student/");

        // Explicit Dispose rather than `using var`: a notebook cell does not accept `using var` at its top level.
        targets.Dispose();
        student.Dispose();
        teacher.Dispose();
        // </readme>
    }
}
