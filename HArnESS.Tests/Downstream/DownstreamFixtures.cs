using System.Text.Json;

namespace HArnESS.Tests.Downstream;

/// <summary>Access to HArnESS.Tests/Fixtures/Downstream (made by scripts/fixtures/make_downstream_fixtures.py).</summary>
internal static class DownstreamFixtures
{
    public static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Downstream", name))).RootElement;

    public static double[] Doubles(this JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    public static int[] Ints(this JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    public static bool[] Bools(this JsonElement e) => e.EnumerateArray().Select(x => x.GetBoolean()).ToArray();
}
