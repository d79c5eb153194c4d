using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;

namespace HArnESS.Notebooks.Tests;

/// <summary>What each notebook must have shown, beyond running without errors: numbers read from its printed
/// output are checked against each other and against independent formulas, and its inline images are real PNGs.</summary>
internal static partial class NotebookExpectations
{
    public static void Check(string notebook, IReadOnlyList<CellResult> cells)
    {
        var output = string.Concat(cells.Select(c => c.StandardOutput));
        switch (notebook)
        {
            case "01-build-a-student.ipynb":
                BuildAStudent(output, cells);
                break;
            default:
                Assert.That(output, Is.Not.Empty, $"{notebook} printed nothing; give it expectations in {nameof(NotebookExpectations)}");
                break;
        }
    }

    private static void BuildAStudent(string output, IReadOnlyList<CellResult> cells)
    {
        // The runtime found libtorch through the package the notebook restored (the test project references none).
        Assert.That(output, Does.Match(@"libtorch 2\.10\.\d+ from \S*libtorch-cpu-linux-x64/2\.10\.0/runtimes/linux-x64/native"));

        // The cost table: the students are far smaller and cheaper than HuBERT base; the Fbank front-end is the cheapest.
        long Params(string row) => long.Parse(Match(output, row + @"\s+([\d,]+)\s+[\d.]+").Replace(",", ""), CultureInfo.InvariantCulture);
        double Gmacs(string row) => double.Parse(Match(output, row + @"\s+[\d,]+\s+([\d.]+)"), CultureInfo.InvariantCulture);
        Assert.That(Params("HuBERT base"), Is.InRange(94_000_000, 95_000_000));
        Assert.That(Params("fbank student"), Is.LessThan(Params("CNN student")).And.LessThan(Params("HuBERT base") / 50));
        Assert.That(Gmacs("fbank student"), Is.LessThan(Gmacs("CNN student")).And.LessThan(Gmacs("HuBERT base") / 50));

        // Shapes: [1, samples] in, one hidden state per layer plus the front-end's, frames as the config predicts.
        var samples = long.Parse(Match(output, @"AudioClip\((\d+) frames, 1 ch, 16000 Hz"), CultureInfo.InvariantCulture);
        Assert.That(Match(output, @"waveform \[([\d, ]+)\] ->"), Is.EqualTo($"1, {samples}"));
        var frames = long.Parse(Match(output, @"frames from the config: (\d+)"), CultureInfo.InvariantCulture);
        Assert.That(Match(output, @"-> front-end features \[([\d, ]+)\]"), Is.EqualTo($"1, {frames}, 128"));
        Assert.That(Match(output, @"(\d+) hidden states, last \[[\d, ]+\]"), Is.EqualTo("3"), "2 layers + the front-end projection");
        Assert.That(Match(output, @"hidden states, last \[([\d, ]+)\], frames \d+"), Is.EqualTo($"1, {frames}, 128"));
        // The similarity curve starts at the front-end's own output (cosine 1) and has one point per hidden state.
        var cosines = Match(output, @"cosine to hidden state 0, per layer: ([-\d., ]+)").Split(", ").Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        Assert.That(cosines, Has.Length.EqualTo(3));
        Assert.That(cosines[0], Is.EqualTo(1.0).Within(1e-3));
        Assert.That(cosines, Has.All.InRange(-1.0 - 1e-3, 1.0 + 1e-3));
        // Two stacked 10 ms Kaldi frames (25 ms window, 10 ms shift, snip edges) per output frame.
        var kaldiFrames = 1 + (samples - 400) / 160;
        Assert.That(frames, Is.EqualTo(kaldiFrames / 2));
        Assert.That(Match(output, @"fbank \[([\d, ]+)\]"), Is.EqualTo($"{kaldiFrames}, 80"));

        // Targets: 8 units of MFCC-39, one label line per utterance of the manifest, every stage reported.
        Assert.That(Match(output, @"codebook (\d+ x \d+)"), Is.EqualTo("8 x 39"));
        var utterances = File.ReadLines(Path.Combine(NotebookPaths.RepoRoot, "data", "demo", "train.tsv")).Skip(1).Count(l => l.Length > 0);
        Assert.That(Match(output, @"train\.km: (\d+) utterances"), Is.EqualTo(utterances.ToString(CultureInfo.InvariantCulture)));
        foreach (var stage in new[] { "dump", "kmeans", "labels" })
            Assert.That(output, Does.Contain($"{stage}: "), $"progress of stage {stage}");

        // The saved student reloads with the same parameter count.
        Assert.That(Match(output, @"saved (config\.json, model\.safetensors)"), Is.EqualTo("config.json, model.safetensors"));
        Assert.That(long.Parse(Match(output, @"reloaded ([\d,]+) parameters").Replace(",", ""), CultureInfo.InvariantCulture), Is.EqualTo(Params("fbank student")));

        // Inline plots: the Fbank image, the per-layer norms and the unit histogram, each a PNG of the size asked for.
        var sizes = cells.SelectMany(c => c.Displayed).Where(v => v.MimeType == "text/html")
            .SelectMany(v => InlinePng().Matches(v.Value)).Select(m => PngSize(Convert.FromBase64String(m.Groups[1].Value))).ToList();
        Assert.That(sizes, Is.EqualTo(new[] { (700, 300), (500, 260), (600, 260) }));
    }

    private static string Match(string text, string pattern)
    {
        var m = Regex.Match(text, pattern);
        Assert.That(m.Success, Is.True, $"the notebook's output has no match for /{pattern}/:{Environment.NewLine}{text}");
        return m.Groups[1].Value;
    }

    /// <summary>Width and height from a PNG's IHDR chunk, after checking the signature.</summary>
    private static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.That(png.Length, Is.GreaterThan(33));
        Assert.That(png[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        Assert.That(System.Text.Encoding.ASCII.GetString(png, 12, 4), Is.EqualTo("IHDR"));
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    [GeneratedRegex(@"<img src=""data:image/png;base64,([A-Za-z0-9+/=]+)""")]
    private static partial Regex InlinePng();
}
