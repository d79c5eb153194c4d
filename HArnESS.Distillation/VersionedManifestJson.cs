using System.Text.Json;
using System.Text.Json.Serialization;
using HArnESS.Serialization;

namespace HArnESS.Distillation;

/// <summary>
/// The one JSON form of the run manifests (<c>targets.json</c>, <c>pipeline.json</c>): snake_case, indented, nulls
/// left out, a format version checked on read, written atomically.
/// </summary>
internal static class VersionedManifestJson
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads <paramref name="path"/> as a <typeparamref name="T"/> of <paramref name="currentVersion"/>.</summary>
    /// <param name="path">The file (it exists; a missing file is the caller's own error).</param>
    /// <param name="kind">What the file is, for the message ("target manifest").</param>
    /// <param name="currentVersion">The only format version accepted.</param>
    /// <param name="versionOf">Reads the version field of a parsed file.</param>
    /// <exception cref="HArnessFormatException">Not JSON of that shape, or another version; the message names the file.</exception>
    public static T Read<T>(string path, string kind, int currentVersion, Func<T, int> versionOf) where T : class
    {
        T? m;
        try
        {
            m = JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new HArnessFormatException($"'{path}' is not a {kind}: {ex.Message}", path, ex);
        }
        if (m is null || versionOf(m) != currentVersion)
            throw new HArnessFormatException($"'{path}': expected a {kind} of version {currentVersion}, got {(m is null ? "null" : versionOf(m).ToString(System.Globalization.CultureInfo.InvariantCulture))}.", path);
        return m;
    }

    /// <summary>Writes <paramref name="value"/> to <paramref name="path"/> atomically.</summary>
    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Json));
}
