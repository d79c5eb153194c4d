using System.Text.Json;
using HArnESS.Serialization;

namespace HArnESS.Samples.Quickstart;

/// <summary>Writes <c>report.json</c> (indented, atomically) into the output folder.</summary>
internal static class ReportWriter
{
    public const string FileName = "report.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write(QuickstartReport report, string outputDir)
    {
        var path = Path.Combine(outputDir, FileName);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, Json));
        return path;
    }
}
