using System.Text.RegularExpressions;

namespace HArnESS.Notebooks.Tests;

/// <summary>
/// The local feed the build packed beside the tests (<c>notebook-feed/</c>, see the project file) and the rewrite
/// that points a notebook at it: the <c>#i "nuget: ..."</c> line names the feed, and every
/// <c>#r "nuget: HArnESS.*, 0.1.0"</c> names the packed version.
/// </summary>
internal static partial class NotebookFeed
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "notebook-feed");

    /// <summary>The version the build packed (0.1.0-nb.h + the assemblies' hashes).</summary>
    public static string Version
    {
        get
        {
            var file = Path.Combine(Directory, "version.txt");
            if (!File.Exists(file))
                throw new FileNotFoundException($"The notebook feed was not packed: '{file}' is missing. Build HArnESS.Notebooks.Tests (its PackNotebookFeed target packs the libraries).", file);
            return File.ReadAllText(file).Trim();
        }
    }

    /// <summary>The cell with the feed and the packed version substituted; other lines are left as they are.</summary>
    public static string Rewrite(string cell, string feedDirectory, string version)
    {
        var withFeed = FeedLine().Replace(cell, m => $"{m.Groups[1].Value}{feedDirectory}{m.Groups[3].Value}");
        return HArnessReference().Replace(withFeed, m => $"{m.Groups[1].Value}{version}{m.Groups[3].Value}");
    }

    /// <summary><c>#i "nuget: &lt;path&gt;"</c>: the one feed line a notebook has.</summary>
    [GeneratedRegex(@"^(#i\s+""nuget:\s*)([^""]+)("")", RegexOptions.Multiline)]
    public static partial Regex FeedLine();

    /// <summary><c>#r "nuget: HArnESS.Xxx, 0.1.0"</c>.</summary>
    [GeneratedRegex(@"^(#r\s+""nuget:\s*HArnESS\.[A-Za-z]+\s*,\s*)([^""]+)("")", RegexOptions.Multiline)]
    public static partial Regex HArnessReference();
}
