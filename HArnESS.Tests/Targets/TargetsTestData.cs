using HArnESS.Data;
using HArnESS.Encoders;
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

    /// <summary>A tiny random teacher (Encoders' TinyPostLn preset) in eval mode.</summary>
    public static SpeechEncoder TinyTeacher()
    {
        var teacher = new SpeechEncoder(EncoderPresets.TinyPostLn);
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
