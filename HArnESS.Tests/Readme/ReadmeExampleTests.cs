using System.Text.RegularExpressions;
using NUnit.Framework;

namespace HArnESS.Tests.Readme;

/// <summary>The README's C# example is the code of <see cref="ReadmeExample"/>, which the test build compiles.</summary>
public sealed class ReadmeExampleTests
{
    [Test]
    public void TheReadmeShowsTheCompiledExample()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var block = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.That(block.Success, Is.True, "README.md has a ```csharp block");
        var readmeLines = Lines(block.Groups[1].Value);

        var source = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "HArnESS.Tests", "Readme", "ReadmeExample.cs"));
        var region = Regex.Match(source, @"// <readme>\n(.*?)// </readme>", RegexOptions.Singleline).Groups[1].Value;
        var sourceUsings = Lines(source).Where(l => l.StartsWith("using HArnESS", StringComparison.Ordinal)).ToList();

        Assert.That(readmeLines.Where(l => !IsUsingDirective(l)), Is.EqualTo(Lines(region)));
        Assert.That(readmeLines.Where(IsUsingDirective), Is.SubsetOf(sourceUsings));
        Assert.That(readmeLines.Count, Is.InRange(15, 35), "the example stays short");
    }

    private static bool IsUsingDirective(string line) => Regex.IsMatch(line, @"^using [A-Za-z_.]+( = [A-Za-z_.]+)?;$");

    private static List<string> Lines(string text) =>
        text.Replace("\r", "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
}
