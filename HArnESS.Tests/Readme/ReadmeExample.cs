using HArnESS.Checkpoints;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Runtime;
namespace HArnESS.Tests.Readme;

// Inside HArnESS.Tests, 'Targets' names the test folder's namespace; an application sees the class directly.
using Targets = HArnESS.Distillation.Targets.Targets;

/// <summary>
/// The README's code example, compiled with the tests so it cannot rot: <see cref="ReadmeExampleTests"/> checks that
/// the README shows exactly the lines between the markers.
/// </summary>
internal static class ReadmeExample
{
    public static async Task RunAsync()
    {
        // <readme>
        HArnessRuntime.Initialize(new RuntimeOptions { Device = ComputeDevice.Auto, Seed = 1 });

        // The teacher: a checkpoint as people download it (HF folder, .safetensors, .bin or fairseq .pt).
        using var teacher = SpeechEncoder.Load("hubert-base-ls960/");

        // A shallow student built from the same blocks, with a log-Mel front-end instead of the CNN.
        using var student = SpeechEncoder.Create()
            .WithFbankFrontEnd(melBins: 80, stack: 2)
            .WithTransformer(layers: 2, dim: 768, heads: 12, ffn: 3072)
            .PostLayerNorm()
            .Build();

        // HArnESS targets: teacher layer 9 → PCA-compacted → 500 k-means units (.km files aligned with the manifest).
        using var targets = await Targets.From("data/demo/train.tsv")
            .Layer(teacher, 9).Pca(components: 256).KMeans(k: 500)
            .Into("runs/targets")
            .FitAsync(new Progress<TargetProgress>(p => Console.WriteLine($"{p.Stage}: {p.Detail}")));

        Console.WriteLine($"student: {student.CountParameters():N0} parameters; units: {targets.LabelPath}");
        student.Save("runs/student/");
        // </readme>
    }
}
