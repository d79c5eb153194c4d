using HArnESS.Checkpoints;
using HArnESS.Data;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Modules;
using HArnESS.Runtime;
using NUnit.Framework;
using TorchSharp;

namespace HArnESS.Tests.Readme;

/// <summary>Runs the README's example (<see cref="ReadmeExample"/>) as written: a folder laid out as the example
/// expects (a teacher at <c>hubert-base-ls960/</c>, the demo corpus at <c>data/demo</c>) is the working directory.</summary>
[NonParallelizable]
public sealed class ReadmeExampleRunTests
{
    [Test]
    public async Task TheReadmeExampleRunsOnATinySavedTeacherAndTheDemoCorpus()
    {
        var dir = Path.Combine(Path.GetTempPath(), "harness-readme-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        Directory.CreateSymbolicLink(Path.Combine(dir, "data", "demo"), Path.Combine(TestPaths.RepoRoot, "data", "demo"));
        // A tiny teacher: the wav2vec 2.0 CNN (20 ms frames) with 16 channels and layer norm (so the dump runs padded
        // batches), 6 layers of width 48.
        using (var tiny = SpeechEncoder.Create().WithCnnFrontEnd(ConvStack.Wav2Vec2WithDim(16), ConvNormMode.LayerNorm, bias: true)
                   .WithTransformer(layers: 6, dim: 48, heads: 4, ffn: 96).WithPositionalConv(kernel: 16, groups: 4).PostLayerNorm().Build())
            tiny.Save(Path.Combine(dir, "hubert-base-ls960"));

        var runtime = HArnessRuntime.EnsureInitialized();
        var cwd = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = dir;
            await ReadmeExample.RunAsync();
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            HArnessRuntime.Initialize(new RuntimeOptions
            {
                Device = runtime.Device.type == DeviceType.CUDA ? ComputeDevice.Auto : ComputeDevice.Cpu,
                Threads = runtime.Threads,
                DefaultDType = runtime.DefaultDType,
                Seed = runtime.Seed,
            });
        }

        try
        {
            var manifest = Manifest.Load(Path.Combine(dir, "data", "demo", "train.tsv"));
            var targets = TargetManifest.Load(Path.Combine(dir, "runs", "targets"));
            Assert.That(targets.KMeans!.Clusters, Is.EqualTo(50));
            Assert.That(targets.Pca!.RetainedVariance, Is.GreaterThanOrEqualTo(0.9));
            Assert.That(targets.Pca.Components, Is.LessThanOrEqualTo(48));
            Assert.That(targets.Features, Does.Contain("layer=6"));
            var labels = LabelFile.Load(targets.Resolve(targets.Labels!.Path), manifest, LabelKind.Units);
            using var teacher = SpeechEncoder.Load(Path.Combine(dir, "hubert-base-ls960"));
            for (var i = 0; i < manifest.Count; i++)
                Assert.That(labels.Units(i).Count, Is.EqualTo(teacher.OutputFrames(manifest.Entries[i].NumSamples)), $"line {i}");
            Assert.That(labels.Lines.SelectMany(l => l.Split(' ')).Distinct().Count(), Is.GreaterThan(25), "most of the 50 units are used");
            Assert.That(File.Exists(Path.Combine(dir, "runs", "student", "config.json")), Is.True);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
