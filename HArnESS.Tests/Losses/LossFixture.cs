using System.Text.Json;
using static TorchSharp.torch;

namespace HArnESS.Tests.Losses;

/// <summary>Reads the torch 1.13 / torchaudio 0.13 reference values written by scripts/fixtures/make_loss_fixtures.py.</summary>
internal static class LossFixture
{
    public static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixtures("Losses", name + ".json"))).RootElement;

    /// <summary>A nested JSON number array as a float32 (or int64) tensor of the same shape.</summary>
    public static Tensor Array(JsonElement e, ScalarType dtype = ScalarType.Float32)
    {
        var shape = new List<long>();
        var cur = e;
        while (cur.ValueKind == JsonValueKind.Array)
        {
            shape.Add(cur.GetArrayLength());
            if (cur.GetArrayLength() == 0) break;
            cur = cur[0];
        }
        var flat = new List<double>();
        void Walk(JsonElement x)
        {
            if (x.ValueKind == JsonValueKind.Array) foreach (var c in x.EnumerateArray()) Walk(c);
            else flat.Add(x.GetDouble());
        }
        Walk(e);
        using var d = tensor(flat.ToArray(), [.. shape], ScalarType.Float64);
        return d.to(dtype);
    }

    public static Tensor Array(JsonElement root, string name, ScalarType dtype = ScalarType.Float32) => Array(root.GetProperty(name), dtype);

    public static double Number(JsonElement root, string name) => root.GetProperty(name).GetDouble();

    public static double Value(Tensor t) => t.to(ScalarType.Float64).item<double>();
}
