using System.Text.Json;
using NUnit.Framework;

namespace HArnESS.Tests.Audio;

/// <summary>Access to HArnESS.Tests/Fixtures/Audio (made by scripts/fixtures/make_audio_fixtures.py).</summary>
internal static class AudioFixtures
{
    public static string Dir(string sub) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Audio", sub);

    // Case sources run before TestContext has a test: resolve from the assembly location instead.
    public static string StaticDir(string sub) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Audio", sub);

    public static float[] ReadF32(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var result = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, result, 0, result.Length * 4);
        return result;
    }

    public static JsonElement Index(string sub) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(StaticDir(sub), "index.json"))).RootElement;

    /// <summary>10 log10(Σ ref² / Σ (ref − x)²).</summary>
    public static double SnrDb(ReadOnlySpan<float> reference, ReadOnlySpan<float> x)
    {
        Assert.That(x.Length, Is.EqualTo(reference.Length), "lengths differ");
        double s = 0, n = 0;
        for (var i = 0; i < reference.Length; i++)
        {
            s += (double)reference[i] * reference[i];
            var d = (double)reference[i] - x[i];
            n += d * d;
        }
        return 10 * Math.Log10(s / Math.Max(n, 1e-300));
    }

    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double m = 0;
        for (var i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }
}
