namespace HArnESS.Notebooks.Tests;

/// <summary>Where the repository and its notebooks are, seen from the test's output folder.</summary>
internal static class NotebookPaths
{
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "HArnESS.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException($"No HArnESS.sln above '{AppContext.BaseDirectory}'.");
        }
    }

    public static string NotebookDir => Path.Combine(RepoRoot, "samples", "notebooks");
}
