namespace HArnESS.Tests;

/// <summary>Where tests find their fixtures and scratch space.</summary>
internal static class TestPaths
{
    /// <summary>The <c>Fixtures</c> folder copied next to the test assembly.</summary>
    public static string Fixtures(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>The repository root (the folder holding HArnESS.sln), found by walking up from the test assembly.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "HArnESS.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException($"No HArnESS.sln above '{AppContext.BaseDirectory}'.");
        }
    }

    /// <summary>A new empty folder under the system temp folder; deleted by <see cref="TempDirectory.Dispose"/>.</summary>
    public static TempDirectory NewTempDirectory() => new();
}

/// <summary>A scratch folder that removes itself.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "harness-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
