using System.Text.RegularExpressions;

namespace HArnESS.Notebooks.Tests;

/// <summary>
/// The repository README's code, pasted into Polyglot Notebook cells as a reader would: the "Notebooks" section's
/// first cell (feed and packages), then "The API in 20 lines" as one cell, unchanged. The C# kernel refuses some
/// console-only forms (a top-level <c>using var</c> is CS1002 there), so the README's example must be written to
/// compile in both. The cell runs in a folder holding the demo corpus and a tiny teacher saved by a cell before it.
/// </summary>
[TestFixture]
public sealed class ReadmeCellTests
{
    private static string Readme => File.ReadAllText(Path.Combine(NotebookPaths.RepoRoot, "README.md"));

    /// <summary>"The API in 20 lines": the README's first <c>```csharp</c> block.</summary>
    private static string ApiExample()
    {
        var m = Regex.Match(Readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.That(m.Success, Is.True, "README.md has a ```csharp block");
        return m.Groups[1].Value;
    }

    /// <summary>The "Notebooks" section's first cell: the block that starts with <c>#i "nuget: ...</c>.</summary>
    private static string FirstCell()
    {
        var m = Regex.Match(Readme, "```\n(#i \"nuget:.*?)```", RegexOptions.Singleline);
        Assert.That(m.Success, Is.True, "README.md shows a notebook's first cell (#i \"nuget: ...\")");
        return m.Groups[1].Value;
    }

    [Test]
    public async Task TheReadmeApiExampleRunsAsANotebookCell()
    {
        var work = Path.Combine(Path.GetTempPath(), "harness-readme-cell-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(work, "data"));
        Directory.CreateSymbolicLink(Path.Combine(work, "data", "demo"), Path.Combine(NotebookPaths.RepoRoot, "data", "demo"));
        // The teacher the example loads from hubert-base-ls960/: a tiny random one (wav2vec 2.0 CNN with 16 channels
        // and layer norm, 6 layers of width 48), saved by the kernel itself (this project references no HArnESS).
        const string saveTeacher = """
            using HArnESS.Checkpoints;
            using HArnESS.Encoders;
            using HArnESS.Modules;
            var tiny = SpeechEncoder.Create().WithCnnFrontEnd(ConvStack.Wav2Vec2WithDim(16), ConvNormMode.LayerNorm, bias: true)
                .WithTransformer(layers: 6, dim: 48, heads: 4, ffn: 96).WithPositionalConv(kernel: 16, groups: 4).PostLayerNorm().Build();
            tiny.Save("hubert-base-ls960");
            tiny.Dispose();
            Console.WriteLine("teacher saved");
            """;
        var cells = new[] { NotebookFeed.Rewrite(FirstCell(), NotebookFeed.Directory, NotebookFeed.Version), saveTeacher, ApiExample() };

        var cwd = Environment.CurrentDirectory;
        IReadOnlyList<CellResult> results;
        try
        {
            Environment.CurrentDirectory = work;
            results = await NotebookRun.RunAsync(cells, TimeSpan.FromMinutes(3));

            foreach (var r in results)
                TestContext.Out.WriteLine($"--- cell {r.Index} ---{Environment.NewLine}{r.StandardOutput}");
            var failed = results.FirstOrDefault(r => r.Errors.Count > 0);
            if (failed is not null)
                Assert.Fail($"cell {failed.Index} failed:{Environment.NewLine}{string.Join(Environment.NewLine, failed.Errors)}{Environment.NewLine}--- code ---{Environment.NewLine}{failed.Code}");
            Assert.That(results, Has.Count.EqualTo(cells.Length), "every cell ran");
            Assert.That(results[1].StandardOutput, Does.Contain("teacher saved"));

            var labels = Path.Combine(work, "runs", "targets", "train.km");
            Assert.That(results[2].StandardOutput, Does.Contain("student: ").And.Contain($"units: {labels}"));
            // One unit line per utterance of the demo training manifest (its first line is the root).
            var entries = File.ReadAllLines(Path.Combine(work, "data", "demo", "train.tsv")).Skip(1).Count(l => l.Length > 0);
            var lines = File.ReadAllLines(labels);
            Assert.That(lines, Has.Length.EqualTo(entries));
            Assert.That(lines, Has.All.Match(@"^\d+( \d+)*$"), "every utterance of the demo corpus gets units");
            Assert.That(lines.SelectMany(l => l.Split(' ')).Select(int.Parse), Has.All.InRange(0, 49), "k = 50");
            Assert.That(File.Exists(Path.Combine(work, "runs", "targets", "targets.json")), Is.True);
            Assert.That(File.Exists(Path.Combine(work, "runs", "student", "config.json")), Is.True);
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            Directory.Delete(work, recursive: true);
        }
    }
}
