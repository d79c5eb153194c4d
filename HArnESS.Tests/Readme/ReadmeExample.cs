using HArnESS.Checkpoints;
using HArnESS.Distillation.Targets;
using HArnESS.Encoders;
using HArnESS.Runtime;
namespace HArnESS.Tests.Readme;

/// <summary>
/// The README's code example, compiled with the tests so it cannot rot: <see cref="ReadmeExampleTests"/> checks that
/// the README shows exactly the lines between the markers, and runs it on a tiny saved teacher and the demo corpus.
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

        // HArnESS targets: teacher layer 6 → PCA-compacted → k-means units (.km files aligned with the manifest);
        // sized for the 95 s demo corpus (on LibriSpeech: .Pca(components: 256).KMeans(k: 500)).
        using var targets = await TargetGenerator.From("data/demo/train.tsv")
            .Layer(teacher, 6).Pca(varianceThreshold: 0.9).KMeans(k: 50)
            .Into("runs/targets")
            .FitAsync(new Progress<TargetProgress>(p => Console.WriteLine(p.Message)));

        Console.WriteLine($"student: {student.CountParameters():N0} parameters; units: {targets.LabelPath}");
        student.Save("runs/student/");
        // </readme>
    }
}
