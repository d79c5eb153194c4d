using HArnESS.Data;
using HArnESS.Encoders;
using TorchSharp;
using NUnit.Framework;

namespace HArnESS.Tests.Targets;

/// <summary>The demo corpus and scratch folders for the Targets tests.</summary>
internal static class TargetsTestData
{
    public static string DemoManifest(string split = "test")
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HArnESS.sln")))
                return Path.Combine(dir.FullName, "data", "demo", split + ".tsv");
        throw new DirectoryNotFoundException("Repository root (HArnESS.sln) not found above the test directory.");
    }

    /// <summary>The first <paramref name="count"/> utterances of the demo test split.</summary>
    public static Manifest Demo(int count = 12)
    {
        var m = Manifest.Load(DemoManifest());
        return m.Select(Enumerable.Range(0, Math.Min(count, m.Count)));
    }

    /// <summary>
    /// A tiny random teacher (Encoders' TinyPostLn preset). Its group-norm affine parameters are set to the PyTorch
    /// defaults (1, 0) here: TorchSharp 0.107's nn.GroupNorm leaves them uninitialised (garbage memory, sometimes
    /// NaN), which made teacher dumps fail at random. Reported to the lead for the Encoders area.
    /// </summary>
    public static SpeechEncoder TinyTeacher()
    {
        var teacher = new SpeechEncoder(EncoderPresets.TinyPostLn);
        using (torch.no_grad())
            foreach (var (name, p) in teacher.named_parameters())
            {
                if (!name.StartsWith("feature_extractor.conv_layers.0.layer_norm.", StringComparison.Ordinal)) continue;
                if (name.EndsWith(".weight", StringComparison.Ordinal)) p.fill_(1);
                else p.fill_(0);
            }
        teacher.eval();
        return teacher;
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "harness-targets-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
