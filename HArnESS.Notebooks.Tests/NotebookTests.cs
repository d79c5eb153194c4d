namespace HArnESS.Notebooks.Tests;

/// <summary>Executes every cell of every notebook in samples/notebooks with the real C# kernel.</summary>
[TestFixture]
public sealed class NotebookTests
{
    private static string NotebookDir => NotebookPaths.NotebookDir;

    public static IEnumerable<TestCaseData> Notebooks() =>
        System.IO.Directory.GetFiles(NotebookDir, "*.ipynb").Order(StringComparer.Ordinal)
            .Select(p => new TestCaseData(Path.GetFileName(p)).SetName($"Notebook_RunsEveryCell({Path.GetFileName(p)})"));

    [Test]
    public void SamplesHoldNotebooks() => Assert.That(Notebooks().Count(), Is.GreaterThanOrEqualTo(1));

    [TestCaseSource(nameof(Notebooks))]
    public async Task Notebook_RunsEveryCell(string name)
    {
        var cells = NotebookRun.CodeCells(Path.Combine(NotebookDir, name))
            .Select(c => NotebookFeed.Rewrite(c, NotebookFeed.Directory, NotebookFeed.Version)).ToList();
        var runs = Path.Combine(Path.GetTempPath(), "harness-notebooks-" + Guid.NewGuid().ToString("N")[..8]);
        var cwd = Environment.CurrentDirectory;
        var previousRuns = Environment.GetEnvironmentVariable("HARNESS_RUNS");
        IReadOnlyList<CellResult> results;
        try
        {
            // As in VS Code: the kernel starts in the notebook's folder. Outputs go to a temp folder.
            Environment.CurrentDirectory = NotebookDir;
            Environment.SetEnvironmentVariable("HARNESS_RUNS", runs);
            results = await NotebookRun.RunAsync(cells, TimeSpan.FromMinutes(3));
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            Environment.SetEnvironmentVariable("HARNESS_RUNS", previousRuns);
            if (System.IO.Directory.Exists(runs)) System.IO.Directory.Delete(runs, recursive: true);
        }

        foreach (var r in results)
            TestContext.Out.WriteLine($"--- cell {r.Index} ---{Environment.NewLine}{r.StandardOutput}");
        SaveDisplayedImages(name, results);
        var failed = results.FirstOrDefault(r => r.Errors.Count > 0);
        if (failed is not null)
            Assert.Fail($"cell {failed.Index} failed:{Environment.NewLine}{string.Join(Environment.NewLine, failed.Errors)}{Environment.NewLine}--- code ---{Environment.NewLine}{failed.Code}");
        Assert.That(results, Has.Count.EqualTo(cells.Count), "every code cell ran");
        NotebookExpectations.Check(name, results);
    }

    /// <summary>With HARNESS_NOTEBOOK_OUTPUTS set to a folder, writes every inline PNG there (to look at them).</summary>
    private static void SaveDisplayedImages(string notebook, IReadOnlyList<CellResult> results)
    {
        var dir = Environment.GetEnvironmentVariable("HARNESS_NOTEBOOK_OUTPUTS");
        if (string.IsNullOrEmpty(dir)) return;
        System.IO.Directory.CreateDirectory(dir);
        int n = 0;
        foreach (var r in results)
            foreach (var v in r.Displayed.Where(v => v.MimeType == "text/html"))
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(v.Value, @"data:image/png;base64,([A-Za-z0-9+/=]+)"))
                    File.WriteAllBytes(Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(notebook)}-cell{r.Index}-{n++}.png"), Convert.FromBase64String(m.Groups[1].Value));
    }
}
