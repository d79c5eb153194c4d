using HArnESS.Data;

namespace HArnESS.Downstream.Tasks;

internal static class TaskLabels
{
    public static IReadOnlyList<string> Of(AudioBatch batch, string name) =>
        batch.Labels.TryGetValue(name, out var labels)
            ? labels
            : throw new HArnessConfigException(
                $"The batch has no '{name}' labels (it has: {string.Join(", ", batch.Labels.Keys)}); load the dataset with that label file.", name);

    /// <summary>The plain transcript of a .wrd or .ltr line (letters joined into words at |).</summary>
    public static string Transcript(string line, string labelName) =>
        labelName.Equals("ltr", StringComparison.OrdinalIgnoreCase)
            ? string.Join(' ', string.Concat(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Split('|', StringSplitOptions.RemoveEmptyEntries))
            : line;

    public static string Where(AudioBatch batch, int row) => $"'{batch.Paths[row]}' (manifest entry {batch.Indices[row] + 1})";
}
