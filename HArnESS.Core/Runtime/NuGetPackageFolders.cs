using System.Xml;
using System.Xml.Linq;

namespace HArnESS.Runtime;

/// <summary>
/// The NuGet global packages folders a process may have restored into, found the way NuGet finds them but without
/// starting NuGet (<c>dotnet nuget locals global-packages --list</c> takes seconds): <c>NUGET_PACKAGES</c>, then the
/// <c>globalPackagesFolder</c> setting of the <c>nuget.config</c> chain (the nearest file wins; <c>&lt;clear /&gt;</c>
/// stops the search), then <c>~/.nuget/packages</c>.
/// </summary>
internal static class NuGetPackageFolders
{
    private static readonly string[] ConfigNames = ["nuget.config", "NuGet.config", "NuGet.Config"];

    /// <summary>A candidate folder and what named it (for messages).</summary>
    internal sealed record Candidate(string Path, string Origin);

    /// <summary>Candidates for this process: the config chains start at the working folder and at the app's folder.</summary>
    public static IReadOnlyList<Candidate> ForThisProcess()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Find(Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            [Environment.CurrentDirectory, AppContext.BaseDirectory], string.IsNullOrEmpty(home) ? null : home);
    }

    /// <summary>Candidates, most authoritative first, without duplicates.</summary>
    /// <param name="nugetPackagesVariable">The value of <c>NUGET_PACKAGES</c>, if set.</param>
    /// <param name="startDirectories">Folders whose config chains are read (each folder and its ancestors, then the user config).</param>
    /// <param name="home">The user's home folder (user config <c>~/.nuget/NuGet/NuGet.Config</c>, default <c>~/.nuget/packages</c>).</param>
    public static IReadOnlyList<Candidate> Find(string? nugetPackagesVariable, IEnumerable<string> startDirectories, string? home)
    {
        var found = new List<Candidate>();
        void Add(string path, string origin)
        {
            var full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
            if (!found.Any(c => c.Path == full)) found.Add(new Candidate(full, origin));
        }

        if (!string.IsNullOrWhiteSpace(nugetPackagesVariable)) Add(nugetPackagesVariable, "NUGET_PACKAGES");
        foreach (var start in startDirectories)
            if (FromConfigChain(start, home) is { } fromConfig) Add(fromConfig.Path, fromConfig.Origin);
        if (home is not null) Add(System.IO.Path.Combine(home, ".nuget", "packages"), "the default ~/.nuget/packages");
        return found;
    }

    /// <summary>The <c>globalPackagesFolder</c> the config chain from <paramref name="start"/> sets, or null.</summary>
    internal static Candidate? FromConfigChain(string start, string? home)
    {
        foreach (var file in ConfigFiles(start, home))
        {
            var (value, cleared) = ReadGlobalPackagesFolder(file);
            if (value is not null)
            {
                var expanded = Environment.ExpandEnvironmentVariables(value);
                var dir = System.IO.Path.GetDirectoryName(file)!;
                return new Candidate(System.IO.Path.GetFullPath(expanded, dir), $"globalPackagesFolder in '{file}'");
            }
            if (cleared) return null;
        }
        return null;
    }

    private static IEnumerable<string> ConfigFiles(string start, string? home)
    {
        DirectoryInfo? dir;
        try
        {
            dir = new DirectoryInfo(System.IO.Path.GetFullPath(start));
        }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException)
        {
            dir = null;
        }
        for (; dir is not null; dir = dir.Parent)
        {
            // On a case-sensitive file system a folder may hold several spellings; NuGet reads the first it finds.
            var file = ConfigNames.Select(n => System.IO.Path.Combine(dir.FullName, n)).FirstOrDefault(File.Exists);
            if (file is not null) yield return file;
        }
        if (home is null) yield break;
        var userDir = System.IO.Path.Combine(home, ".nuget", "NuGet");
        var user = ConfigNames.Select(n => System.IO.Path.Combine(userDir, n)).FirstOrDefault(File.Exists);
        if (user is not null) yield return user;
        var extra = System.IO.Path.Combine(home, ".nuget", "config");
        if (Directory.Exists(extra))
            foreach (var f in Directory.GetFiles(extra, "*.config").Order(StringComparer.Ordinal)) yield return f;
    }

    /// <summary>Reads <c>configuration/config/add[@key='globalPackagesFolder']</c>; a file NuGet itself could not read is skipped.</summary>
    private static (string? Value, bool Cleared) ReadGlobalPackagesFolder(string file)
    {
        try
        {
            var info = new FileInfo(file);
            if (info.Length > 1 << 20) return (null, false); // not a config file anyone wrote by hand
            var doc = XDocument.Load(file, LoadOptions.None);
            var config = doc.Root?.Element("config");
            if (config is null) return (null, false);
            string? value = null;
            bool cleared = false;
            foreach (var element in config.Elements())
            {
                if (element.Name.LocalName == "clear") { value = null; cleared = true; }
                else if (element.Name.LocalName == "add"
                         && string.Equals((string?)element.Attribute("key"), "globalPackagesFolder", StringComparison.OrdinalIgnoreCase))
                    value = (string?)element.Attribute("value");
            }
            return (string.IsNullOrWhiteSpace(value) ? null : value, cleared);
        }
        catch (Exception e) when (e is XmlException or IOException or UnauthorizedAccessException)
        {
            return (null, false);
        }
    }
}
