namespace HArnESS.Notebooks.Tests;

public sealed class NotebookFeedTests
{
    [Test]
    public void RewritePointsTheFeedLineAndHArnessVersionsAtThePackedFeed()
    {
        const string cell = """
            #i "nuget: /tmp/harness-feed"
            #r "nuget: libtorch-cpu-linux-x64, 2.10.0"
            #r "nuget: HArnESS.Core, 0.1.0"
            #r "nuget:HArnESS.Distillation,0.1.0"
            #r "nuget: ScottPlot, 5.1.59"
            var s = "#r \"nuget: HArnESS.Core, 0.1.0\"";
            """;
        var rewritten = NotebookFeed.Rewrite(cell, "/x/notebook-feed", "0.1.0-nb.habc");
        Assert.That(rewritten.Split('\n'), Is.EqualTo(new[]
        {
            "#i \"nuget: /x/notebook-feed\"",
            "#r \"nuget: libtorch-cpu-linux-x64, 2.10.0\"",
            "#r \"nuget: HArnESS.Core, 0.1.0-nb.habc\"",
            "#r \"nuget:HArnESS.Distillation,0.1.0-nb.habc\"",
            "#r \"nuget: ScottPlot, 5.1.59\"",
            "var s = \"#r \\\"nuget: HArnESS.Core, 0.1.0\\\"\";",
        }));
    }

    [Test]
    public void TheBuildPackedEveryLibraryAtOneVersion()
    {
        var version = NotebookFeed.Version;
        Assert.That(version, Does.Match(@"^0\.1\.0-nb\.h[0-9a-f]{18}$"));
        foreach (var id in new[] { "HArnESS.Core", "HArnESS.Distillation", "HArnESS.Downstream" })
            Assert.That(File.Exists(Path.Combine(NotebookFeed.Directory, $"{id}.{version}.nupkg")), Is.True, id);
    }

    [Test]
    public void EveryNotebookHasOneAbsoluteFeedLine()
    {
        foreach (var path in System.IO.Directory.GetFiles(NotebookPaths.NotebookDir, "*.ipynb"))
        {
            var feeds = NotebookRun.CodeCells(path).SelectMany(c => NotebookFeed.FeedLine().Matches(c)).ToList();
            Assert.That(feeds, Has.Count.EqualTo(1), Path.GetFileName(path));
            Assert.That(Path.IsPathRooted(feeds[0].Groups[2].Value), Is.True, $"{Path.GetFileName(path)}: .NET Interactive refuses relative feed paths");
        }
    }
}
